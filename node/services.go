package node

import (
	"errors"
	"fmt"
	"net/http"
)

// Service is a part of the node outside the chain (the dashboard and its
// index): it starts once the API's routes are set, may add its own, and
// stops before the API and CometBFT do. Packages register one in init so
// that package node need not import them.
type Service interface {
	Start(n *Node, mux *http.ServeMux) error
	Stop() error
}

var serviceMakers []func() Service

// RegisterService adds a service every node started in this process runs.
func RegisterService(make func() Service) { serviceMakers = append(serviceMakers, make) }

func (n *Node) startServices(mux *http.ServeMux) error {
	for _, mk := range serviceMakers {
		s := mk()
		if err := s.Start(n, mux); err != nil {
			return fmt.Errorf("start node service: %w", err)
		}
		n.services = append(n.services, s)
	}
	return nil
}

func (n *Node) stopServices() error {
	var errs []error
	for i := len(n.services) - 1; i >= 0; i-- {
		errs = append(errs, n.services[i].Stop())
	}
	n.services = nil
	return errors.Join(errs...)
}
