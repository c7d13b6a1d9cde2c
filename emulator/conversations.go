package emulator

import (
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits the reference gives for conversation members.
const (
	maxConvNameLen  = 100
	maxImageURLLen  = 2048
	maxDisplayLen   = 200
	maxEventTypeLen = 100
)

// convInput is a validated conversation create or update body; each *Set flag
// says the member was given.
type convInput struct {
	name, displayName, imageURL          string
	nameSet, displayNameSet, imageURLSet bool
	properties                           map[string]any
	propertiesSet                        bool
	numbers                              any
	numbersSet                           bool
}

// readConvInput validates a conversation body: name (1–100 characters),
// display_name, image_url (an absolute http(s) URL of at most 2048 characters),
// properties (an object whose ttl is a non-negative number, type a string and
// custom_data an object) and numbers (an array or object).
func readConvInput(r *http.Request) (convInput, *apiError) {
	obj, bad := readObject(r)
	if bad != nil {
		return convInput{}, errValidation(*bad)
	}
	var v validator
	var in convInput
	var null bool
	in.name, in.nameSet, null = v.str(obj, "name", "name")
	if in.nameSet && (null || in.name == "" || utf8.RuneCountInString(in.name) > maxConvNameLen) {
		v.fail("name", fmt.Sprintf(`"name" must be a string of 1 to %d characters`, maxConvNameLen))
	}
	in.displayName, in.displayNameSet, _ = v.str(obj, "display_name", "display_name")
	if utf8.RuneCountInString(in.displayName) > maxDisplayLen {
		v.fail("display_name", fmt.Sprintf(`"display_name" must be at most %d characters`, maxDisplayLen))
	}
	in.imageURL, in.imageURLSet, _ = v.str(obj, "image_url", "image_url")
	if in.imageURL != "" && (!absoluteURL(in.imageURL) || len(in.imageURL) > maxImageURLLen) {
		v.fail("image_url", fmt.Sprintf(`"image_url" must be an absolute http(s) URL of at most %d characters`, maxImageURLLen))
	}
	in.properties, in.propertiesSet, _ = v.object(obj, "properties", "properties")
	if p := in.properties; p != nil {
		if ttl, has := p["ttl"]; has {
			if n, ok := ttl.(float64); !ok || n < 0 {
				v.fail("properties.ttl", `"ttl" must be a non-negative number of seconds`)
			}
		}
		if typ, has := p["type"]; has {
			if _, ok := typ.(string); !ok {
				v.fail("properties.type", `"type" must be a string`)
			}
		}
		if cd, has := p["custom_data"]; has && cd != nil {
			if _, ok := cd.(map[string]any); !ok {
				v.fail("properties.custom_data", `"custom_data" must be an object`)
			}
		}
	}
	if raw, has := obj["numbers"]; has && !isNull(raw) {
		switch b := firstByte(raw); b {
		case '[', '{':
			in.numbers, in.numbersSet = decodeAny(raw), true
		default:
			v.fail("numbers", `"numbers" must be an array of channel objects`)
		}
	}
	if !v.ok() {
		return convInput{}, errValidation(v.params...)
	}
	return in, nil
}

// createConversation handles POST /{v}/conversations (201). The platform makes a
// name up when none is given; a taken name is 409.
func (e *Emulator) createConversation(w http.ResponseWriter, r *http.Request, c caller) {
	in, aerr := readConvInput(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	if !in.nameSet {
		in.name = "NAM-" + uuid.NewString()
	}
	now := e.now()
	cv := &conversation{
		id: "CON-" + uuid.NewString(), name: in.name,
		displayName: in.displayName, imageURL: in.imageURL,
		properties: cloneJSON(in.properties), numbers: in.numbers,
		createdAt: now, updatedAt: now,
	}
	e.answer(w, c, http.StatusCreated, func(app *application) (any, *apiError) {
		if app.convNames[cv.name] != nil {
			return nil, duplicateConversation(cv.name)
		}
		app.convSeq++
		cv.seq = app.convSeq
		app.convs[cv.id] = cv
		app.convNames[cv.name] = cv
		return conversationView(r, cv), nil
	})
}

// duplicateConversation is the 409 naming a taken conversation name.
func duplicateConversation(name string) *apiError {
	return &apiError{status: http.StatusConflict, code: codeConversationDuplicate, title: "Conflict.",
		detail: fmt.Sprintf("Conversation name '%s' already exists.", name)}
}

// getConversation handles GET /{v}/conversations/{cid}.
func (e *Emulator) getConversation(w http.ResponseWriter, r *http.Request, c caller) {
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		cv, aerr := app.conversation(r.PathValue("cid"))
		if aerr != nil {
			return nil, aerr
		}
		return conversationView(r, cv), nil
	})
}

// updateConversation handles PUT (and PATCH) /{v}/conversations/{cid}: given
// members replace stored ones; a new name must stay unique.
func (e *Emulator) updateConversation(w http.ResponseWriter, r *http.Request, c caller) {
	in, aerr := readConvInput(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		cv, aerr := app.conversation(r.PathValue("cid"))
		if aerr != nil {
			return nil, aerr
		}
		if in.nameSet && in.name != cv.name && app.convNames[in.name] != nil {
			return nil, duplicateConversation(in.name)
		}
		if in.nameSet {
			delete(app.convNames, cv.name)
			cv.name = in.name
			app.convNames[cv.name] = cv
		}
		if in.displayNameSet {
			cv.displayName = in.displayName
		}
		if in.imageURLSet {
			cv.imageURL = in.imageURL
		}
		if in.propertiesSet {
			cv.properties = cloneJSON(in.properties)
		}
		if in.numbersSet {
			cv.numbers = in.numbers
		}
		cv.updatedAt = e.now()
		return conversationView(r, cv), nil
	})
}

// deleteConversation handles DELETE /{v}/conversations/{cid} (204), which also
// ends every membership of it.
func (e *Emulator) deleteConversation(w http.ResponseWriter, r *http.Request, c caller) {
	e.answer(w, c, http.StatusNoContent, func(app *application) (any, *apiError) {
		cv, aerr := app.conversation(r.PathValue("cid"))
		if aerr != nil {
			return nil, aerr
		}
		delete(app.convs, cv.id)
		delete(app.convNames, cv.name)
		return nil, nil
	})
}

// listConversations handles GET /{v}/conversations: paged in creation order,
// optionally only those created within [date_start, date_end].
func (e *Emulator) listConversations(w http.ResponseWriter, r *http.Request, c caller) {
	var v validator
	params := v.query(r)
	q := readPageQuery(&v, params, r.URL.Path, "date_start", "date_end")
	from := v.timeParam(params, "date_start")
	to := v.timeParam(params, "date_end")
	if !v.ok() {
		writeValidation(w, v.params...)
		return
	}
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		all := make([]*conversation, 0, len(app.convs))
		for _, cv := range app.convs {
			if (from.IsZero() || !cv.createdAt.Before(from)) && (to.IsZero() || !cv.createdAt.After(to)) {
				all = append(all, cv)
			}
		}
		seq := func(cv *conversation) uint64 { return cv.seq }
		sortBySeq(all, seq)
		page, links := paginate(all, seq, q, baseURL(r))
		items := make([]any, 0, len(page))
		for _, cv := range page {
			items = append(items, conversationSummary(r, cv))
		}
		return pageView(q, "conversations", items, links), nil
	})
}

// listUserConversations handles GET /{v}/users/{id}/conversations: the
// conversations the user is (or was) a member of, with the member's state.
// "me" names the token's own user.
func (e *Emulator) listUserConversations(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := pageParams(w, r)
	if !ok {
		return
	}
	type membership struct {
		cv *conversation
		m  *member
	}
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		u, aerr := app.pathUser(r.PathValue("id"), c)
		if aerr != nil {
			return nil, aerr
		}
		var all []membership
		for _, cv := range app.convs {
			if m := cv.latestMember(u.id); m != nil {
				all = append(all, membership{cv, m})
			}
		}
		seq := func(x membership) uint64 { return x.cv.seq }
		sortBySeq(all, seq)
		page, links := paginate(all, seq, q, baseURL(r))
		items := make([]any, 0, len(page))
		for _, x := range page {
			items = append(items, userConversationView(r, x.cv, x.m))
		}
		return pageView(q, "conversations", items, links), nil
	})
}

// pathUser resolves a user id from the path, where "me" is the token's own
// user (an admin token has none); the caller holds e.mu.
func (a *application) pathUser(id string, c caller) (*user, *apiError) {
	if id == "me" {
		if c.user == "" {
			return nil, errNotFound(codeUserNotFound, "An admin token has no user: users/me needs a user token (a JWT with sub).")
		}
		return a.callerUser(c)
	}
	if u := a.users[id]; u != nil {
		return u, nil
	}
	return nil, errUserNotFound
}

// timeParam reads an optional RFC 3339 timestamp query parameter.
func (v *validator) timeParam(params map[string][]string, name string) time.Time {
	vals := params[name]
	if len(vals) == 0 || vals[0] == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, vals[0])
	if err != nil {
		v.fail(name, `"`+name+`" must be an RFC 3339 timestamp such as 2020-01-01T14:00:00.00Z`)
	}
	return t
}
