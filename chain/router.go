package chain

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/tenun-chain/tenun/chain/store"
)

// Msg is a typed message a transaction carries. Its Go struct is its schema:
// integer-keyed CBOR fields, checked by ValidateBasic before any state is read.
type Msg interface {
	Type() string // "domain/action", e.g. "bank/send"
	ValidateBasic() error
}

// Coster is implemented by messages that cost the chain more than a plain
// transfer to execute (proof verification, say): the fee must cover it.
type Coster interface {
	ExtraFee() uint64
}

// Domain is one area of the chain's rules (bank, label market, ...). Each is
// a set of pure functions over the store; the router calls them.
type Domain interface {
	Name() string
	// Register adds the domain's message handlers to the router.
	Register(r *Router)
}

// GenesisDomain reads its part of the genesis file.
type GenesisDomain interface {
	InitGenesis(ctx *Context, raw json.RawMessage) error
}

// EndBlocker runs after the block's transactions: deadlines, epochs, payouts.
type EndBlocker interface {
	EndBlock(ctx *Context) error
}

// Querier answers read-only queries over committed state for the API.
// path is the part after /query/<domain>/ and params the URL query.
type Querier interface {
	Query(kv store.KV, path string, params map[string]string) (any, error)
}

type route struct {
	zero   func() Msg // a new zero message of the type
	decode func([]byte) (Msg, error)
	handle func(*Context, Msg) error
	owner  string // the domain that registered it: its handler writes under "<owner>/"
}

// Router maps message types to their decoders and handlers.
type Router struct {
	routes      map[string]route
	domains     []Domain
	registering string
}

// NewRouter returns a router with the given domains registered, in order.
func NewRouter(domains ...Domain) *Router {
	r := &Router{routes: make(map[string]route)}
	for _, d := range domains {
		r.domains = append(r.domains, d)
		r.registering = d.Name()
		d.Register(r)
	}
	return r
}

// Handle registers the handler of one message type. T is the message struct,
// PT its pointer type, which implements Msg.
func Handle[T any, PT interface {
	*T
	Msg
}](r *Router, h func(ctx *Context, m PT) error) {
	name := PT(new(T)).Type()
	if _, dup := r.routes[name]; dup {
		panic("chain: message type registered twice: " + name)
	}
	r.routes[name] = route{
		zero: func() Msg { return PT(new(T)) },
		decode: func(b []byte) (Msg, error) {
			m := PT(new(T))
			if err := Unmarshal(b, m); err != nil {
				return nil, Wrap(ErrDecode, "%s: %v", name, err)
			}
			return m, nil
		},
		handle: func(ctx *Context, m Msg) error { return h(ctx, m.(PT)) },
		owner:  r.registering,
	}
}

// DecodeMsg decodes a message of a registered type and runs ValidateBasic.
func (r *Router) DecodeMsg(a Any) (Msg, error) {
	rt, ok := r.routes[a.Type]
	if !ok {
		return nil, Wrap(ErrUnknownMsg, "%q", a.Type)
	}
	m, err := rt.decode(a.Value)
	if err != nil {
		return nil, err
	}
	if err := m.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Type, err)
	}
	return m, nil
}

// NewMsg returns a new zero message of a registered type, for readers of
// other encodings than the transaction's (JSON in scenario files); what
// they fill in still goes through DecodeMsg before it counts.
func (r *Router) NewMsg(typ string) (Msg, bool) {
	rt, ok := r.routes[typ]
	if !ok {
		return nil, false
	}
	return rt.zero(), true
}

// MsgTypes lists the registered message types, sorted (fuzz targets use it).
func (r *Router) MsgTypes() []string {
	out := make([]string, 0, len(r.routes))
	for k := range r.routes { //determinism:allow keys are sorted below
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Domains returns the registered domains in registration order.
func (r *Router) Domains() []Domain { return r.domains }

// Domain returns the registered domain with the given name.
func (r *Router) Domain(name string) (Domain, bool) {
	for _, d := range r.domains {
		if d.Name() == name {
			return d, true
		}
	}
	return nil, false
}

// HandleForTest runs a decoded message's handler directly, without the
// transaction checks, with its writes limited to its domain's prefix as in
// a transaction; domain tests use it to exercise pure rules.
func (r *Router) HandleForTest(ctx *Context, m Msg) error {
	return runGuarded(ctx.Scoped(r.owner(m.Type())), func(ctx *Context) error { return r.handle(ctx, m) })
}

// owner is the name of the domain that handles messages of type typ.
func (r *Router) owner(typ string) string { return r.routes[typ].owner }

func (r *Router) handle(ctx *Context, m Msg) error {
	return r.routes[m.Type()].handle(ctx, m)
}
