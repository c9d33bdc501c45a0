package docket

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Template is a starting text for new documents of a space, such as an
// RFC with its sections. It is not a document: it has no lifecycle,
// threads or action items, and lists, search and the inbox never see it.
// Its body may hold [TitlePlaceholder] and [DatePlaceholder], which a
// document created from it gets replaced by its title and the day.
type Template struct {
	ID          string    `json:"id"`
	SpaceID     string    `json:"spaceId"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Kind        Kind      `json:"kind"` // the kind of the documents made from it
	Body        string    `json:"body"`
	CreatedBy   string    `json:"createdBy,omitempty"` // empty for the defaults
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Placeholders of a template's body.
const (
	TitlePlaceholder = "{{title}}"
	DatePlaceholder  = "{{date}}" // the day, as 2026-12-07
)

// Bounds of templates.
const (
	MaxTemplatesPerSpace    = 50
	MaxTemplateName         = 80
	MaxTemplateDescription  = 300
	maxTemplatePlaceholders = 20
)

// TemplateInput holds the fields of a template to create or replace; for
// an update, nil fields are left alone.
type TemplateInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Kind        *Kind   `json:"kind"`
	Body        *string `json:"body"`
}

// TemplateService manages the templates of spaces. Reading needs the
// viewer role in the space, creating, changing and deleting the admin
// role. A space the caller may not read is ENOTFOUND.
type TemplateService interface {
	// FindTemplates lists a space's templates by name. A space that has
	// never had templates gets the defaults first. Returns ENOTFOUND.
	FindTemplates(ctx context.Context, space string) ([]*Template, error)

	// FindTemplate returns one template of a space. Returns ENOTFOUND.
	FindTemplate(ctx context.Context, space, id string) (*Template, error)

	// CreateTemplate adds a template; Name and Body are required, Kind
	// defaults to page. Returns ENOTFOUND, EFORBIDDEN, EINVALID, ETOOLARGE,
	// ECONFLICT when the space has MaxTemplatesPerSpace or one of that name.
	CreateTemplate(ctx context.Context, space string, in TemplateInput) (*Template, error)

	// UpdateTemplate changes the fields set in in. Returns ENOTFOUND,
	// EFORBIDDEN, EINVALID, ETOOLARGE, ECONFLICT.
	UpdateTemplate(ctx context.Context, space, id string, in TemplateInput) (*Template, error)

	// DeleteTemplate deletes a template; documents made from it stay.
	// Returns ENOTFOUND, EFORBIDDEN.
	DeleteTemplate(ctx context.Context, space, id string) error
}

// Apply returns the text of a new document titled title made from t on
// the day now.
func (t *Template) Apply(title string, now time.Time) string {
	return strings.NewReplacer(TitlePlaceholder, title, DatePlaceholder, now.Format(time.DateOnly)).Replace(t.Body)
}

// Check validates the fields of t and tidies its name and description.
// Returns EINVALID, ETOOLARGE.
func (t *Template) Check() error {
	t.Name = strings.Join(strings.Fields(t.Name), " ")
	t.Description = strings.Join(strings.Fields(t.Description), " ")
	switch {
	case t.Name == "":
		return Errorf(EINVALID, "Name required: what the template is for, such as \"RFC\".")
	case !utf8.ValidString(t.Name) || utf8.RuneCountInString(t.Name) > MaxTemplateName:
		return Errorf(EINVALID, "The name must be text of at most %d characters.", MaxTemplateName)
	case !utf8.ValidString(t.Description) || utf8.RuneCountInString(t.Description) > MaxTemplateDescription:
		return Errorf(EINVALID, "The description must be text of at most %d characters.", MaxTemplateDescription)
	case !t.Kind.Valid():
		return Errorf(EINVALID, "Kind %q is not one of rfc, notes, brainstorm, page.", t.Kind)
	case strings.TrimSpace(t.Body) == "":
		return Errorf(EINVALID, "Body required: the text new documents start with.")
	case strings.Count(t.Body, TitlePlaceholder)+strings.Count(t.Body, DatePlaceholder) > maxTemplatePlaceholders:
		return Errorf(EINVALID, "A template may hold at most %d placeholders.", maxTemplatePlaceholders)
	}
	return CheckText("Template", t.Body, MaxDocumentBytes)
}

// Set copies the fields set in in to t.
func (in TemplateInput) Set(t *Template) {
	if in.Name != nil {
		t.Name = *in.Name
	}
	if in.Description != nil {
		t.Description = *in.Description
	}
	if in.Kind != nil {
		t.Kind = *in.Kind
	}
	if in.Body != nil {
		t.Body = *in.Body
	}
}

// DefaultTemplates returns the templates a space starts with: an RFC, a
// decision record, meeting notes and a brainstorm.
func DefaultTemplates() []Template {
	return []Template{
		{Name: "RFC", Kind: KindRFC, Description: "Propose a change and ask for review: the problem, the proposal, what else was considered.", Body: rfcTemplate},
		{Name: "Decision record", Kind: KindRFC, Description: "Record a decision once it is made: its context, the options, what was chosen and what follows.", Body: decisionTemplate},
		{Name: "Meeting notes", Kind: KindNotes, Description: "Agenda, notes and action items of a meeting, with owners and due dates.", Body: meetingTemplate},
		{Name: "Brainstorm", Kind: KindBrainstorm, Description: "Collect ideas around a question before anyone judges them, then pick a few to follow up.", Body: brainstormTemplate},
	}
}

const rfcTemplate = `# {{title}}

## Summary

One paragraph: what changes, for whom, and why now. Someone who reads
only this should know whether the rest concerns them.

## Problem

What is wrong or missing today? Give concrete cases, numbers and links
to earlier discussions. Say who is affected and how often.

## Proposal

What you want to build or change, in enough detail that others can
judge it: interfaces, data, the user's steps. Diagrams and examples
help more than adjectives.

## Alternatives considered

- **Do nothing**: what happens if we leave it as it is.
- **Another approach**: what it is and why it loses to the proposal.

## Risks and open questions

- What could go wrong, and how we would notice.
- What you have not decided yet and want reviewers' views on.

## Rollout

How it ships: migration, flags, documentation, who needs to know.
`

const decisionTemplate = `# {{title}}

Date: {{date}}
Status: proposed

## Context

The situation and the forces at play: constraints, requirements, what
made a decision necessary. Link the RFC or discussion it came from.

## Options

1. **Option A**: one line on what it is; its main pro and con.
2. **Option B**: one line on what it is; its main pro and con.

## Decision

We will … (one or two sentences in the active voice).

## Consequences

What becomes easier and what becomes harder because of this decision,
and what we have to do next.

- [ ] Tell the teams affected
`

const meetingTemplate = `# {{title}}

Date: {{date}}
Attendees:

## Agenda

1. Topic, who brings it, how long
2. Topic, who brings it, how long

## Notes

What was said and decided, topic by topic. Write decisions as
"Decided: …" so they stand out.

## Action items

One task a line, such as ` + "`- [ ] @name what to do due:YYYY-MM-DD`" + `:
the name assigns it, the date makes it due.

- [ ] 
`

const brainstormTemplate = `# {{title}}

## The question

What are we trying to find ideas for? One sentence, as a question.

## Ideas

Anything goes: add one line per idea, build on others', no judging yet.

- 
- 

## Themes

Group the ideas that belong together, once the list has grown.

## Next steps

Pick the few ideas worth following up, and who looks into each: one
task a line, such as ` + "`- [ ] @name look into the idea`" + `.

- [ ] 
`
