package bolt

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Schema 6: document templates of spaces (made by the 5 -> 6 migration
// in db.go).
var (
	bucketTemplates     = []byte("templates")      // spaceID/templateID -> docket.Template
	bucketTemplateSeeds = []byte("template_seeds") // spaceID -> 1, once its defaults were stored
)

// TemplateService implements [docket.TemplateService]. Templates are kept
// apart from documents (bucket templates, spaceID/templateID -> template),
// so that no list, search, inbox or action item sees them; a space whose
// defaults were stored is marked in template_seeds, so that deleting them
// all does not bring them back.
type TemplateService struct {
	db *DB
}

var _ docket.TemplateService = (*TemplateService)(nil)

// NewTemplateService returns a TemplateService backed by db.
func NewTemplateService(db *DB) *TemplateService { return &TemplateService{db: db} }

const templateAdminOnly = "Only the admins of a space manage its templates."

// seedTemplates stores the default templates of a space that never had
// them; it reports whether it did.
func seedTemplates(tx kv.Tx, spaceID string, now time.Time) (bool, error) {
	seeds := tx.Bucket(bucketTemplateSeeds)
	if seeds.Get([]byte(spaceID)) != nil {
		return false, nil
	}
	for i, t := range docket.DefaultTemplates() {
		t.ID, t.SpaceID = newID(), spaceID
		// A nanosecond apart, so that they list in the order given.
		t.CreatedAt = now.Add(time.Duration(i))
		t.UpdatedAt = t.CreatedAt
		if err := putJSON(tx.Bucket(bucketTemplates), pair(spaceID, t.ID), &t); err != nil {
			return false, err
		}
	}
	return true, seeds.Put([]byte(spaceID), []byte{1}) // a nil value would read back as nil
}

// FindTemplates implements [docket.TemplateService].
func (s *TemplateService) FindTemplates(ctx context.Context, space string) ([]*docket.Template, error) {
	list := func(tx kv.Tx) ([]*docket.Template, error) {
		sp, _, err := readableSpace(ctx, tx, space)
		if err != nil {
			return nil, err
		}
		if tx.Bucket(bucketTemplateSeeds).Get([]byte(sp.ID)) == nil {
			return nil, nil // not seeded yet
		}
		out, err := decodePrefixed[docket.Template](tx.Bucket(bucketTemplates), sp.ID, "template")
		slices.SortFunc(out, func(a, b *docket.Template) int { return a.CreatedAt.Compare(b.CreatedAt) })
		return out, err
	}
	out, err := inTx(ctx, s.db.view, list)
	if err != nil || out != nil {
		return out, err
	}
	// A space made before templates existed gets the defaults now.
	return inTx(ctx, s.db.update, func(tx kv.Tx) ([]*docket.Template, error) {
		sp, _, err := readableSpace(ctx, tx, space)
		if err != nil {
			return nil, err
		}
		if _, err := seedTemplates(tx, sp.ID, s.db.Now().UTC()); err != nil {
			return nil, err
		}
		return list(tx)
	})
}

// findTemplate reads a template of a space the caller's role in which is
// at least min.
func findTemplate(ctx context.Context, tx kv.Tx, space, id string, min docket.SpaceRole) (*docket.Template, error) {
	sp, err := spaceWithRole(ctx, tx, space, min, templateAdminOnly)
	if err != nil {
		return nil, err
	}
	t := new(docket.Template)
	if !docket.ValidID(id) {
		return nil, docket.Errorf(docket.ENOTFOUND, "Template not found.")
	}
	if ok, err := getJSON(tx.Bucket(bucketTemplates), pair(sp.ID, id), t); err != nil {
		return nil, err
	} else if !ok {
		return nil, docket.Errorf(docket.ENOTFOUND, "Template not found.")
	}
	return t, nil
}

// FindTemplate implements [docket.TemplateService].
func (s *TemplateService) FindTemplate(ctx context.Context, space, id string) (*docket.Template, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.Template, error) {
		return findTemplate(ctx, tx, space, id, docket.RoleViewer)
	})
}

// CreateTemplate implements [docket.TemplateService].
func (s *TemplateService) CreateTemplate(ctx context.Context, space string, in docket.TemplateInput) (*docket.Template, error) {
	t := &docket.Template{ID: newID(), Kind: docket.KindPage, CreatedBy: docket.UserIDFromContext(ctx)}
	in.Set(t)
	if err := t.Check(); err != nil {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Template, error) {
		sp, err := spaceWithRole(ctx, tx, space, docket.RoleAdmin, templateAdminOnly)
		if err != nil {
			return nil, err
		}
		now := s.db.Now().UTC()
		if _, err := seedTemplates(tx, sp.ID, now); err != nil {
			return nil, err
		}
		t.SpaceID, t.CreatedAt, t.UpdatedAt = sp.ID, now.Add(time.Second), now.Add(time.Second)
		if err := checkTemplateFits(tx, t, true); err != nil {
			return nil, err
		}
		return t, putJSON(tx.Bucket(bucketTemplates), pair(sp.ID, t.ID), t)
	})
}

// checkTemplateFits reports ECONFLICT when another template of t's space
// has its name or, for a new one, the space has its most templates.
func checkTemplateFits(tx kv.Tx, t *docket.Template, isNew bool) error {
	all, err := decodePrefixed[docket.Template](tx.Bucket(bucketTemplates), t.SpaceID, "template")
	if err != nil {
		return err
	}
	for _, other := range all {
		if other.ID != t.ID && strings.EqualFold(other.Name, t.Name) {
			return docket.Errorf(docket.ECONFLICT, "The space already has a template named %q.", other.Name)
		}
	}
	if isNew && len(all) >= docket.MaxTemplatesPerSpace {
		return docket.Errorf(docket.ECONFLICT, "A space may have at most %d templates.", docket.MaxTemplatesPerSpace)
	}
	return nil
}

// UpdateTemplate implements [docket.TemplateService].
func (s *TemplateService) UpdateTemplate(ctx context.Context, space, id string, in docket.TemplateInput) (*docket.Template, error) {
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Template, error) {
		t, err := findTemplate(ctx, tx, space, id, docket.RoleAdmin)
		if err != nil {
			return nil, err
		}
		in.Set(t)
		if err := t.Check(); err != nil {
			return nil, err
		}
		if err := checkTemplateFits(tx, t, false); err != nil {
			return nil, err
		}
		t.UpdatedAt = s.db.Now().UTC()
		return t, putJSON(tx.Bucket(bucketTemplates), pair(t.SpaceID, t.ID), t)
	})
}

// DeleteTemplate implements [docket.TemplateService].
func (s *TemplateService) DeleteTemplate(ctx context.Context, space, id string) error {
	return s.db.update(ctx, func(tx kv.Tx) error {
		t, err := findTemplate(ctx, tx, space, id, docket.RoleAdmin)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketTemplates).Delete(pair(t.SpaceID, t.ID))
	})
}
