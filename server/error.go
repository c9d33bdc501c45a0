package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// codes maps domain error codes to HTTP statuses. It is the only place
// where that translation happens.
var codes = map[string]int{
	docket.ECONFLICT:     http.StatusConflict,
	docket.EINVALID:      http.StatusBadRequest,
	docket.ENOTFOUND:     http.StatusNotFound,
	docket.EUNAUTHORIZED: http.StatusUnauthorized,
	docket.EFORBIDDEN:    http.StatusForbidden,
	docket.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	docket.EUNPROCESS:    http.StatusUnprocessableEntity,
	docket.ERATELIMIT:    http.StatusTooManyRequests,
	docket.EUNAVAILABLE:  http.StatusServiceUnavailable,
	docket.EINTERNAL:     http.StatusInternalServerError,
}

// statusCodes maps statuses that echo itself produces back to domain codes.
var statusCodes = map[int]string{
	http.StatusBadRequest:            docket.EINVALID,
	http.StatusUnauthorized:          docket.EUNAUTHORIZED,
	http.StatusForbidden:             docket.EFORBIDDEN,
	http.StatusNotFound:              docket.ENOTFOUND,
	http.StatusMethodNotAllowed:      docket.EINVALID,
	http.StatusRequestEntityTooLarge: docket.ETOOLARGE,
	http.StatusTooManyRequests:       docket.ERATELIMIT,
	http.StatusServiceUnavailable:    docket.EUNAVAILABLE,
}

// ErrorStatus returns the HTTP status for a domain error code.
func ErrorStatus(code string) int {
	if status, ok := codes[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// translate turns any error into a domain error and its status.
func translate(err error) (*docket.Error, int) {
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return docket.Errorf(docket.ETOOLARGE, "Request body is larger than %d bytes.", mbe.Limit), http.StatusRequestEntityTooLarge
	case errors.As(err, &he):
		code, ok := statusCodes[he.Code]
		if !ok {
			code = docket.EINTERNAL
		}
		msg := http.StatusText(he.Code) + "."
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		return &docket.Error{Code: code, Message: msg}, he.Code
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return docket.Errorf(docket.EUNAVAILABLE, "The request was cancelled or timed out."), http.StatusServiceUnavailable
	}
	code := docket.ErrorCode(err)
	return &docket.Error{Code: code, Message: docket.ErrorMessage(err), Data: docket.ErrorData(err)}, ErrorStatus(code)
}

// handleError writes every error as {"error": {"code", "message", ...}},
// or as an HTML page for the web app's pages. Internal errors are logged
// with the request and shown as "Internal error."
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e, status := translate(err)
	if e.Code == docket.EINTERNAL {
		s.log.Error("internal error", slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path), slog.Any("err", err))
	}
	body := map[string]any{"code": e.Code, "message": e.Message}
	for k, v := range e.Data {
		if k != "code" && k != "message" {
			body[k] = v
		}
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if isPageRequest(c.Request()) {
		s.renderErrorPage(c, e, status)
		return
	}
	c.JSON(status, map[string]any{"error": body})
}
