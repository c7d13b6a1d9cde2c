package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// listCursor is the decoded form of the opaque cursor of GET /v1/users. Paging
// is keyed on the creation sequence, so it stays stable while users are added
// or deleted: a "next" cursor lists what follows Seq in the listing order, a
// "prev" cursor what precedes it.
type listCursor struct {
	Dir   string `json:"d"`
	Seq   uint64 `json:"s"`
	Order string `json:"o"`
}

// encode renders the cursor as standard base64 of its JSON, like Vonage's
// opaque cursors.
func (c listCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.StdEncoding.EncodeToString(b)
}

// decodeCursor parses a cursor, tolerating the base64 variants a client might
// produce when re-encoding it (URL-safe, unpadded, '+' turned into ' ').
func decodeCursor(s string) (listCursor, bool) {
	s = strings.ReplaceAll(s, " ", "+")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		var c listCursor
		if json.Unmarshal(b, &c) == nil && (c.Dir == "next" || c.Dir == "prev") && (c.Order == "asc" || c.Order == "desc") {
			return c, true
		}
	}
	return listCursor{}, false
}

// userSummary is a user as the list embeds it.
type userSummary struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name,omitempty"`
	Links       map[string]link `json:"_links"`
}

// listQuery holds the validated parameters of GET /v1/users.
type listQuery struct {
	pageSize  int
	order     string
	name      string
	rawCursor string
	cursor    *listCursor
}

// href builds an absolute list link carrying the query and the given cursor.
func (q listQuery) href(base, cursor string) link {
	s := base + "/v1/users?order=" + q.order + "&page_size=" + strconv.Itoa(q.pageSize)
	if q.name != "" {
		s += "&name=" + url.QueryEscape(q.name)
	}
	if cursor != "" {
		s += "&cursor=" + url.QueryEscape(cursor)
	}
	return link{Href: s}
}

// readListQuery validates page_size (1–100, default 10), order (asc|desc, any
// case, default asc), cursor and name.
func readListQuery(w http.ResponseWriter, r *http.Request) (listQuery, bool) {
	var v validator
	params := v.query(r)
	q := listQuery{
		pageSize:  v.intParam(params, "page_size", 10, 1, 100),
		order:     strings.ToLower(params.Get("order")),
		name:      params.Get("name"),
		rawCursor: params.Get("cursor"),
	}
	switch q.order {
	case "":
		q.order = "asc"
	case "asc", "desc":
	default:
		v.fail("order", `"order" must be one of [asc, desc]`)
	}
	if q.rawCursor != "" {
		c, ok := decodeCursor(q.rawCursor)
		switch {
		case !ok:
			v.fail("cursor", `"cursor" is not a valid cursor`)
		case v.ok() && c.Order != q.order:
			v.fail("cursor", `"cursor" was issued for order=`+c.Order)
		default:
			q.cursor = &c
		}
	}
	if !v.ok() {
		writeValidation(w, v.params...)
		return listQuery{}, false
	}
	return q, true
}

// listUsers handles GET /v1/users with cursor paging in creation order.
func (e *Emulator) listUsers(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := readListQuery(w, r)
	if !ok {
		return
	}
	base := baseURL(r)

	e.mu.Lock()
	app := e.apps[c.appID]
	if app == nil {
		e.mu.Unlock()
		applicationGone(w)
		return
	}
	var all []*user
	for _, u := range app.usersInOrder() {
		if q.name == "" || u.name == q.name {
			all = append(all, u)
		}
	}
	e.mu.Unlock()

	if q.order == "desc" {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	// before reports whether a precedes the sequence number s in listing order.
	before := func(a, s uint64) bool {
		if q.order == "desc" {
			return a > s
		}
		return a < s
	}
	start, end := 0, min(q.pageSize, len(all))
	if q.cursor != nil {
		// pos is the index of the first user not before the cursor's sequence.
		pos := 0
		for pos < len(all) && before(all[pos].seq, q.cursor.Seq) {
			pos++
		}
		if q.cursor.Dir == "next" {
			if pos < len(all) && all[pos].seq == q.cursor.Seq {
				pos++
			}
			start, end = pos, min(pos+q.pageSize, len(all))
		} else {
			start, end = max(0, pos-q.pageSize), pos
		}
	}
	page := all[start:end]

	users := make([]userSummary, 0, len(page))
	for _, u := range page {
		users = append(users, userSummary{
			ID: u.id, Name: u.name, DisplayName: u.displayName,
			Links: map[string]link{"self": {Href: base + "/v1/users/" + u.id}},
		})
	}
	links := map[string]link{"first": q.href(base, ""), "self": q.href(base, q.rawCursor)}
	if len(page) > 0 && end < len(all) {
		links["next"] = q.href(base, listCursor{Dir: "next", Seq: page[len(page)-1].seq, Order: q.order}.encode())
	}
	if len(page) > 0 && start > 0 {
		links["prev"] = q.href(base, listCursor{Dir: "prev", Seq: page[0].seq, Order: q.order}.encode())
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"page_size": q.pageSize,
		"_embedded": map[string]any{"users": users},
		"_links":    links,
	})
}
