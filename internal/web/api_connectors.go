package web

import (
	"net/http"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// The connectors' endpoints: devices that submit without AUTH as one
// mailbox, admitted by network or client certificate.

type connectorJSON struct {
	Name         string    `json:"name"`
	Mailbox      string    `json:"mailbox"`
	Networks     []string  `json:"networks"`
	Fingerprints []string  `json:"fingerprints"`
	LegacyTLS    bool      `json:"legacy_tls"`
	CreatedAt    time.Time `json:"created_at"`
}

func connectorView(c store.Connector) connectorJSON {
	return connectorJSON{c.Name, c.Mailbox, nonNil(c.Networks), nonNil(c.Fingerprints), c.LegacyTLS, c.CreatedAt}
}

func listConnectors(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		cs, err := a.Connectors(r.Context())
		return http.StatusOK, mapList(cs, connectorView), err
	}
}

func addConnector(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var req struct {
			Name         string   `json:"name"`
			Mailbox      string   `json:"mailbox"`
			Networks     []string `json:"networks"`
			Fingerprints []string `json:"fingerprints"`
			LegacyTLS    bool     `json:"legacy_tls"`
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		c, err := a.AddConnector(r.Context(), admin.ConnectorSpec{Name: req.Name, Mailbox: req.Mailbox, Networks: req.Networks, Fingerprints: req.Fingerprints, LegacyTLS: req.LegacyTLS})
		return http.StatusCreated, connectorView(c), err
	}
}

func patchConnector(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var p struct {
			Mailbox      *string   `json:"mailbox"`
			Networks     *[]string `json:"networks"`
			Fingerprints *[]string `json:"fingerprints"`
			LegacyTLS    *bool     `json:"legacy_tls"`
		}
		if err := decode(r, &p); err != nil {
			return 0, nil, err
		}
		c, err := a.SetConnector(r.Context(), r.PathValue("name"), admin.ConnectorChange{Mailbox: p.Mailbox, Networks: p.Networks, Fingerprints: p.Fingerprints, LegacyTLS: p.LegacyTLS})
		return http.StatusOK, connectorView(c), err
	}
}

func removeConnector(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, a.RemoveConnector(r.Context(), r.PathValue("name"))
	}
}
