package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// listCursor is the decoded form of the opaque cursor of every paged listing.
// Paging is keyed on a creation sequence (or an event id), so it stays stable
// while items are added or deleted: a "next" cursor lists what follows Seq in
// the listing order, a "prev" cursor what precedes it.
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

// pageQuery holds the validated paging parameters of a listing: page_size
// (1–100), order (asc|desc in any case), cursor, and the listing's own filters,
// which every link repeats.
type pageQuery struct {
	path      string // the listing's path, such as /v0.3/conversations
	pageSize  int
	order     string
	rawCursor string
	cursor    *listCursor
	filters   url.Values
}

// readPageQuery validates page_size (1–100, default 10), order (asc|desc, any
// case, default asc) and cursor, and keeps the named filters for the links.
func readPageQuery(v *validator, params url.Values, path string, filters ...string) pageQuery {
	q := pageQuery{
		path:      path,
		pageSize:  v.intParam(params, "page_size", 10, 1, 100),
		order:     strings.ToLower(params.Get("order")),
		rawCursor: params.Get("cursor"),
		filters:   url.Values{},
	}
	for _, f := range filters {
		if val := params.Get(f); val != "" {
			q.filters.Set(f, val)
		}
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
	return q
}

// pageParams reads a listing's paging parameters with no filters of its own,
// answering 400 (naming each bad parameter) when they do not validate.
func pageParams(w http.ResponseWriter, r *http.Request) (pageQuery, bool) {
	var v validator
	q := readPageQuery(&v, v.query(r), r.URL.Path)
	if !v.ok() {
		writeValidation(w, v.params...)
	}
	return q, v.ok()
}

// href builds an absolute list link carrying the query and the given cursor.
func (q pageQuery) href(base, cursor string) link {
	s := base + q.path + "?order=" + q.order + "&page_size=" + strconv.Itoa(q.pageSize)
	if len(q.filters) > 0 {
		s += "&" + q.filters.Encode()
	}
	if cursor != "" {
		s += "&cursor=" + url.QueryEscape(cursor)
	}
	return link{Href: s}
}

// paginate selects the page of all (sorted ascending by seq) that q asks for and
// returns it in listing order with the HAL links first, self, next and prev.
func paginate[T any](all []T, seq func(T) uint64, q pageQuery, base string) ([]T, map[string]link) {
	ordered := make([]T, len(all))
	copy(ordered, all)
	if q.order == "desc" {
		for i, j := 0, len(ordered)-1; i < j; i, j = i+1, j-1 {
			ordered[i], ordered[j] = ordered[j], ordered[i]
		}
	}
	// before reports whether a precedes the sequence number s in listing order.
	before := func(a, s uint64) bool {
		if q.order == "desc" {
			return a > s
		}
		return a < s
	}
	start, end := 0, min(q.pageSize, len(ordered))
	if q.cursor != nil {
		// pos is the index of the first item not before the cursor's sequence.
		pos := 0
		for pos < len(ordered) && before(seq(ordered[pos]), q.cursor.Seq) {
			pos++
		}
		if q.cursor.Dir == "next" {
			if pos < len(ordered) && seq(ordered[pos]) == q.cursor.Seq {
				pos++
			}
			start, end = pos, min(pos+q.pageSize, len(ordered))
		} else {
			start, end = max(0, pos-q.pageSize), pos
		}
	}
	page := ordered[start:end]
	links := map[string]link{"first": q.href(base, ""), "self": q.href(base, q.rawCursor)}
	if len(page) > 0 && end < len(ordered) {
		links["next"] = q.href(base, listCursor{Dir: "next", Seq: seq(page[len(page)-1]), Order: q.order}.encode())
	}
	if len(page) > 0 && start > 0 {
		links["prev"] = q.href(base, listCursor{Dir: "prev", Seq: seq(page[0]), Order: q.order}.encode())
	}
	return page, links
}
