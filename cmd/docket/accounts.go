package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/server"
)

// accounts are the operations of 'docket user': on the data file when no
// server runs, or through the running server's admin socket.
type accounts interface {
	add(ctx context.Context, uc docket.UserCreate) (*docket.User, error)
	list(ctx context.Context) ([]*docket.User, error)
	// disable and resetPassword end every session and revoke every API
	// token of the user at once.
	disable(ctx context.Context, email string) (*docket.User, error)
	resetPassword(ctx context.Context, email, password string) (*docket.User, error)
}

// localAccounts runs the operations on an open data file as the system.
// revoke, if set, is called after a reset or a disable so that the
// server's open live sockets and event streams check their credentials
// again at once.
type localAccounts struct {
	users  *bolt.UserService
	revoke func()
}

func (a localAccounts) add(ctx context.Context, uc docket.UserCreate) (*docket.User, error) {
	return a.users.CreateUser(docket.NewSystemContext(ctx), uc)
}

func (a localAccounts) list(ctx context.Context) ([]*docket.User, error) {
	all, _, err := a.users.FindUsers(docket.NewSystemContext(ctx), docket.UserFilter{})
	return all, err
}

func (a localAccounts) disable(ctx context.Context, email string) (*docket.User, error) {
	return a.change(ctx, email, func(sys context.Context, id string) error { return a.users.DisableUser(sys, id) })
}

func (a localAccounts) resetPassword(ctx context.Context, email, password string) (*docket.User, error) {
	return a.change(ctx, email, func(sys context.Context, id string) error { return a.users.ResetPassword(sys, id, password) })
}

// change runs fn on the user with email, then revokes, and returns the
// user as it is afterwards.
func (a localAccounts) change(ctx context.Context, email string, fn func(context.Context, string) error) (*docket.User, error) {
	sys := docket.NewSystemContext(ctx)
	u, err := a.users.FindUserByEmail(sys, email)
	if err != nil {
		return nil, err
	}
	if err := fn(sys, u.ID); err != nil {
		return nil, err
	}
	if a.revoke != nil {
		a.revoke()
	}
	return a.users.FindUserByID(sys, u.ID)
}

// socketAccounts runs the operations through a running server's admin
// socket.
type socketAccounts struct{ client *http.Client }

// accountRequest is the body of the admin socket's account operations.
type accountRequest struct {
	Name     string          `json:"name,omitempty"`
	Email    string          `json:"email"`
	Password string          `json:"password,omitempty"`
	Role     docket.SiteRole `json:"role,omitempty"`
	TimeZone string          `json:"timeZone,omitempty"`
}

func (a socketAccounts) add(ctx context.Context, uc docket.UserCreate) (*docket.User, error) {
	var u docket.User
	err := a.call(ctx, http.MethodPost, "/users", accountRequest{Name: uc.Name, Email: uc.Email, Password: uc.Password, Role: uc.Role, TimeZone: uc.TimeZone}, &u)
	return &u, err
}

func (a socketAccounts) list(ctx context.Context) ([]*docket.User, error) {
	var out struct {
		Users []*docket.User `json:"users"`
	}
	err := a.call(ctx, http.MethodGet, "/users", nil, &out)
	return out.Users, err
}

func (a socketAccounts) disable(ctx context.Context, email string) (*docket.User, error) {
	var u docket.User
	err := a.call(ctx, http.MethodPost, "/users/disable", accountRequest{Email: email}, &u)
	return &u, err
}

func (a socketAccounts) resetPassword(ctx context.Context, email, password string) (*docket.User, error) {
	var u docket.User
	err := a.call(ctx, http.MethodPost, "/users/reset-password", accountRequest{Email: email, Password: password}, &u)
	return &u, err
}

// call sends one request to the admin socket and decodes the answer into
// out, or the error the server sent into a docket.Error.
func (a socketAccounts) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://docket"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("the running server's admin socket: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error *adminError `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != nil && e.Error.Code != "" {
			return docket.Errorf(e.Error.Code, "%s", e.Error.Message)
		}
		return fmt.Errorf("the running server answered %s", resp.Status)
	}
	return json.Unmarshal(data, out)
}

// serveAccounts adds the account operations to the admin socket's mux.
// The socket's file mode (0600) is the authorization: whoever may open it
// owns the data.
func serveAccounts(mux *http.ServeMux, a accounts, log *slog.Logger) {
	handle := func(pattern string, status int, op func(context.Context, accountRequest) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			var req accountRequest
			if r.Method == http.MethodPost {
				dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&req); err != nil {
					writeAdminJSON(w, http.StatusBadRequest, map[string]any{"error": adminError{docket.EINVALID, "The request is not valid JSON."}})
					return
				}
			}
			out, err := op(r.Context(), req)
			if err != nil {
				code := docket.ErrorCode(err)
				if code == docket.EINTERNAL {
					log.Error("admin socket: account operation failed", slog.String("op", pattern), slog.Any("err", err))
				}
				writeAdminJSON(w, server.ErrorStatus(code), map[string]any{"error": adminError{code, docket.ErrorMessage(err)}})
				return
			}
			writeAdminJSON(w, status, out)
		})
	}
	handle("GET /users", http.StatusOK, func(ctx context.Context, _ accountRequest) (any, error) {
		all, err := a.list(ctx)
		return map[string]any{"users": all}, err
	})
	handle("POST /users", http.StatusCreated, func(ctx context.Context, req accountRequest) (any, error) {
		return a.add(ctx, docket.UserCreate{Name: req.Name, Email: req.Email, Password: req.Password, Role: req.Role, TimeZone: req.TimeZone})
	})
	handle("POST /users/disable", http.StatusOK, func(ctx context.Context, req accountRequest) (any, error) {
		return a.disable(ctx, req.Email)
	})
	handle("POST /users/reset-password", http.StatusOK, func(ctx context.Context, req accountRequest) (any, error) {
		return a.resetPassword(ctx, req.Email, req.Password)
	})
}

// adminError is an error as the admin socket sends it.
type adminError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
