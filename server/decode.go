package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// decode reads a JSON request body into v strictly: the content type must
// be JSON, unknown fields (such as "role" or "ownerId" smuggled into an
// update) are refused, and so is anything after the object.
func decode(c echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return docket.Errorf(docket.EINVALID, "Content-Type must be application/json.")
		}
	} else if req.ContentLength != 0 {
		return docket.Errorf(docket.EINVALID, "Content-Type must be application/json.")
	}
	dec := json.NewDecoder(req.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return docket.Errorf(docket.EINVALID, "Request body must hold a single JSON object.")
	}
	return nil
}

func decodeError(err error) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return docket.Errorf(docket.EINVALID, "Request body is empty; send a JSON object.")
	case errors.As(err, &syn):
		return docket.Errorf(docket.EINVALID, "Request body is not valid JSON (at byte %d).", syn.Offset)
	case errors.As(err, &typ):
		return docket.Errorf(docket.EINVALID, "Field %q must be %s.", typ.Field, typ.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return docket.Errorf(docket.EINVALID, "Field %s is not accepted here.", field)
	}
	return docket.Errorf(docket.EINVALID, "Request body is not valid JSON.")
}

// intParam parses an optional integer query parameter within [min, max].
func intParam(c echo.Context, name string, def, min, max int64) (int64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || n > max {
		return 0, docket.Errorf(docket.EINVALID, "Parameter %s must be an integer between %d and %d.", name, min, max)
	}
	return n, nil
}

// paging reads limit and offset.
func paging(c echo.Context, def, max int) (limit, offset int, err error) {
	l, err := intParam(c, "limit", int64(def), 1, int64(max))
	if err != nil {
		return 0, 0, err
	}
	o, err := intParam(c, "offset", 0, 0, 1_000_000)
	if err != nil {
		return 0, 0, err
	}
	return int(l), int(o), nil
}

// sendList answers a list of items as {key: items, total: n}, or err if
// finding them failed.
func sendList[T any](c echo.Context, key string, items []T, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(key, items))
}

// listOf is the answer of a list: {key: items, total: n}.
func listOf[T any](key string, items []T) map[string]any {
	return map[string]any{key: items, "total": len(items)}
}
