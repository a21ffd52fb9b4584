package circuit

import (
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
)

// r1cEmitter adds constraints L * R == O with L and R exactly as given.
//
// gnark's R1CS builder swaps the operands of a product so that B (R) has
// the fewer terms. For f * (c - x) == 1 with a full-size f that puts f in
// B, and every wire in B costs a G2 multi-exponentiation term at proving
// time, several times a G1 one. Emitting the constraint through a generic
// R1C instruction keeps f in A. Builders that are not gnark's R1CS builder
// (the test engine) get the same relation through the plain API.
type r1cEmitter struct {
	api frontend.API
	cs  r1cInstructions
	bp  constraint.BlueprintID
}

type r1cInstructions interface {
	AddBlueprint(constraint.Blueprint) constraint.BlueprintID
	AddInstruction(constraint.BlueprintID, []uint32) []uint32
	ToCanonicalVariable(frontend.Variable) frontend.CanonicalVariable
}

func newR1CEmitter(api frontend.API) *r1cEmitter {
	e := &r1cEmitter{api: api}
	if cs, ok := api.Compiler().(r1cInstructions); ok {
		if _, isR1CS := cs.ToCanonicalVariable(api.Add(api.Mul(1, 1), 0)).(constraint.LinearExpression); isR1CS {
			e.cs = cs
			e.bp = cs.AddBlueprint(&constraint.BlueprintGenericR1C{})
		}
	}
	return e
}

// one is the R1CS linear expression of the constant 1 (wire 0 is the
// constant-one public wire).
var one = constraint.LinearExpression{{CID: constraint.CoeffIdOne, VID: 0}}

// assertProduct asserts l * r == o, with o == nil meaning the constant 1.
// l, r and o must be variables, not constants.
func (e *r1cEmitter) assertProduct(l, r, o frontend.Variable) {
	if e.cs == nil {
		if o == nil {
			o = 1
		}
		e.api.AssertIsEqual(e.api.Mul(l, r), o)
		return
	}
	c := constraint.R1C{L: e.lin(l), R: e.lin(r), O: one}
	if o != nil {
		c.O = e.lin(o)
	}
	var calldata []uint32
	(&constraint.BlueprintGenericR1C{}).CompressR1C(&c, &calldata)
	e.cs.AddInstruction(e.bp, calldata)
}

func (e *r1cEmitter) lin(v frontend.Variable) constraint.LinearExpression {
	return e.cs.ToCanonicalVariable(v).(constraint.LinearExpression)
}
