package web

import (
	"fmt"
	"net/http"

	"mailroom/internal/admin"
)

// patchAppPassword changes the networks an app password may be used from
// without reissuing it: PATCH /api/v1/mailboxes/{address}/app-passwords/{label}
// with {"networks": [...]} (empty: wherever the mailbox may).
func patchAppPassword(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var req struct {
			Networks *[]string `json:"networks"`
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		if req.Networks == nil {
			return 0, nil, fmt.Errorf("%w: networks: required (an empty list lifts the restriction)", errInvalidRequest)
		}
		p, err := a.SetAppPasswordNetworks(r.Context(), r.PathValue("address"), r.PathValue("label"), *req.Networks)
		return http.StatusOK, appPasswordView(p), err
	}
}
