package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/unit"
)

// The JSON API under /api/v1. Every handler decodes its request, calls one
// internal/admin operation and encodes the result; validation and wording
// are admin's, so the API, the CLI and the console refuse alike.

//go:embed openapi.json
var openAPI []byte

// maxBody bounds every request body (New caps it for every handler).
const maxBody = 1 << 20

// maxList bounds how many entries one listing returns.
const maxList = 1000

// handler is one endpoint: it returns the HTTP status and the value to
// encode, or an error that apiError maps to a status.
type handler func(r *http.Request) (int, any, error)

// route is one endpoint of the API, as registered and as the OpenAPI
// document must list it.
type route struct {
	method, path string
	h            func(a *admin.Service) handler
}

// routes lists every endpoint; TestOpenAPI_CoversRoutes checks that
// openapi.json documents each.
var routes = []route{
	{"GET", "/api/v1/domains", listDomains},
	{"POST", "/api/v1/domains", addDomain},
	{"PATCH", "/api/v1/domains/{name}", patchDomain},
	{"DELETE", "/api/v1/domains/{name}", removeDomain},
	{"GET", "/api/v1/mailboxes", listMailboxes},
	{"POST", "/api/v1/mailboxes", addMailbox},
	{"GET", "/api/v1/mailboxes/{address}", getMailbox},
	{"PATCH", "/api/v1/mailboxes/{address}", patchMailbox},
	{"DELETE", "/api/v1/mailboxes/{address}", removeMailbox},
	{"POST", "/api/v1/mailboxes/{address}/password", setPassword},
	{"GET", "/api/v1/mailboxes/{address}/usage", mailboxUsage},
	{"GET", "/api/v1/mailboxes/{address}/aliases", listAliases},
	{"POST", "/api/v1/mailboxes/{address}/aliases", addAlias},
	{"DELETE", "/api/v1/mailboxes/{address}/aliases/{alias}", removeAlias},
	{"GET", "/api/v1/mailboxes/{address}/app-passwords", listAppPasswords},
	{"POST", "/api/v1/mailboxes/{address}/app-passwords", addAppPassword},
	{"DELETE", "/api/v1/mailboxes/{address}/app-passwords/{label}", revokeAppPassword},
	{"PATCH", "/api/v1/mailboxes/{address}/app-passwords/{label}", patchAppPassword},
	{"GET", "/api/v1/mailboxes/{address}/folders/{folder}", listFolder},
	{"GET", "/api/v1/mailboxes/{address}/folders/{folder}/{id}/raw", downloadRaw},
	{"GET", "/api/v1/grants", listGrants},
	{"POST", "/api/v1/grants", addGrant},
	{"DELETE", "/api/v1/grants", revokeGrant},
	{"GET", "/api/v1/oauth-clients", listOAuthClients},
	{"POST", "/api/v1/oauth-clients", addOAuthClient},
	{"DELETE", "/api/v1/oauth-clients", removeOAuthClient},
	{"GET", "/api/v1/connectors", listConnectors},
	{"POST", "/api/v1/connectors", addConnector},
	{"PATCH", "/api/v1/connectors/{name}", patchConnector},
	{"DELETE", "/api/v1/connectors/{name}", removeConnector},
	{"GET", "/api/v1/queue", listQueue},
	{"POST", "/api/v1/queue/retry", retryQueue},
	{"POST", "/api/v1/queue/drop", dropQueue},
	{"GET", "/api/v1/trace", searchTrace},
	{"GET", "/api/v1/trace/{id}", traceAttempt},
}

// mountAPI registers the API on mux: /api/v1/openapi.json without a token,
// everything else behind a bearer token.
func mountAPI(mux *http.ServeMux, a *admin.Service, log *slog.Logger) {
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	for _, rt := range routes {
		h := rt.h(a)
		mux.Handle(rt.method+" "+rt.path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := authorize(r.Context(), a, r); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mailroom"`)
				writeError(w, log, err)
				return
			}
			status, v, err := h(r)
			if err != nil {
				writeError(w, log, err)
				return
			}
			if raw, ok := v.(rawMessage); ok {
				writeRaw(w, raw)
				return
			}
			writeJSON(w, status, v)
		}))
	}
	// Anything else under /api/ is a JSON 404, not the console's HTML.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiErr{Error: "no such endpoint: " + r.Method + " " + r.URL.Path + " (GET /api/v1/openapi.json lists them)", Code: "not_found"})
	})
}

// authorize checks the request's bearer token.
func authorize(ctx context.Context, a *admin.Service, r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return fmt.Errorf("%w: send Authorization: Bearer <token> (mailroom admin token add LABEL makes one)", admin.ErrUnauthorized)
	}
	if _, err := a.CheckToken(ctx, strings.TrimSpace(tok)); err != nil {
		if errors.Is(err, admin.ErrUnauthorized) {
			return fmt.Errorf("%w: unknown or revoked token", admin.ErrUnauthorized)
		}
		return err
	}
	return nil
}

// apiErr is the body of every error response.
type apiErr struct {
	Error string `json:"error"`
	Code  string `json:"code"` // invalid, unauthorized, not_found, exists, conflict, internal
}

// errInvalidRequest marks a request the API itself cannot read.
var errInvalidRequest = errors.New("invalid request")

func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	status, code := http.StatusInternalServerError, "internal"
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, admin.ErrUnauthorized):
		status, code = http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, admin.ErrInvalid), errors.Is(err, errInvalidRequest):
		status, code = http.StatusBadRequest, "invalid"
	case errors.As(err, &tooBig):
		status, code = http.StatusRequestEntityTooLarge, "invalid"
	case errors.Is(err, admin.ErrNotFound), errors.Is(err, store.ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, admin.ErrExists):
		status, code = http.StatusConflict, "exists"
	case errors.Is(err, store.ErrConflict):
		status, code = http.StatusConflict, "conflict"
	default:
		log.Error("api", "err", err)
	}
	writeJSON(w, status, apiErr{Error: err.Error(), Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decode reads a JSON request body into v, refusing unknown fields so
// that a misspelt setting is an error, not a silent no-op.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: a JSON body is required", errInvalidRequest)
		}
		return fmt.Errorf("%w: JSON body: %v", errInvalidRequest, err)
	}
	return nil
}

// queryInt reads an integer query parameter; def when absent.
func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s=%q: want a number", errInvalidRequest, name, v)
	}
	return n, nil
}

// queryLimit reads a listing's limit: def when absent, else 1 to maxList
// (the store takes 0 for no limit, which the API must not pass on).
func queryLimit(r *http.Request, def int) (int, error) {
	n, err := queryInt(r, "limit", def)
	if err != nil {
		return 0, err
	}
	if n < 1 || n > maxList {
		return 0, fmt.Errorf("%w: limit=%d: want 1 to %d", errInvalidRequest, n, maxList)
	}
	return n, nil
}

// duration reads a duration as everything in mailroom does ("30d", "24h").
func duration(name, v string) (time.Duration, error) {
	d, err := unit.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s=%q: want a duration such as \"1d\", \"24h\" or \"30m\"", errInvalidRequest, name, v)
	}
	return d, nil
}
