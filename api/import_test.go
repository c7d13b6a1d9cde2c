package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/contracttest"
	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// importResponse is the body of POST /v1/admin/users/import.
type importResponse struct {
	Complete  bool            `json:"complete"`
	BodyError *importProblem  `json:"body_error"`
	Created   int             `json:"created"`
	Existing  int             `json:"existing"`
	Failed    int             `json:"failed"`
	Results   []importOutcome `json:"results"`
}

type importOutcome struct {
	Line     int            `json:"line"`
	Username string         `json:"username"`
	Status   string         `json:"status"`
	UserID   string         `json:"user_id"`
	Error    *importProblem `json:"error"`
}

type importProblem struct {
	Code              string `json:"code"`
	Detail            string `json:"detail"`
	InvalidParameters []struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"invalid_parameters"`
}

// field returns the first field a problem names and its reason.
func (p *importProblem) field() (name, reason string) {
	if p == nil || len(p.InvalidParameters) == 0 {
		return "", ""
	}
	return p.InvalidParameters[0].Name, p.InvalidParameters[0].Reason
}

// importUsers posts body to the import and decodes a 200 answer.
func (s *stack) importUsers(admin, body string) importResponse {
	s.T.Helper()
	r := s.Do(http.MethodPost, "/v1/admin/users/import", "application/x-ndjson", strings.NewReader(body), "Authorization", admin)
	if r.Status != http.StatusOK {
		s.T.Fatalf("import: %d %.500s", r.Status, r.Body)
	}
	return decodeImport(s.T, r.Body)
}

func decodeImport(t testing.TB, body []byte) importResponse {
	t.Helper()
	var res importResponse
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("import answer: %v: %.500s", err, body)
	}
	return res
}

// bcryptHash is a hash as another system would have stored it, at bcrypt's
// lowest cost so that tests stay quick.
func bcryptHash(t testing.TB, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// importFile is n users named prefix-00001… with hash, one per line.
func importFile(prefix string, n int, hash string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"username":"%s-%05d","password_hash":%q,"display_name":"Imported User %d"}`+"\n", prefix, i, hash, i)
	}
	return b.String()
}

// checkNoDuplicates fails t unless every user has one sign-up record and at
// most one provisioning job, and every user still pending has its job.
func (s *stack) checkNoDuplicates() {
	s.T.Helper()
	c, err := db.New(s.App.Pool).ImportInvariants(context.Background())
	if err != nil {
		s.T.Fatal(err)
	}
	for what, n := range map[string]int64{
		"users with more than one sign-up record":   c.SignedUpTwice,
		"users with no sign-up record":              c.NeverSignedUp,
		"users with more than one provisioning job": c.TwoJobs,
		"pending users without a provisioning job":  c.PendingWithoutJob,
	} {
		if n != 0 {
			s.T.Errorf("%d %s", n, what)
		}
	}
}

func TestImportOfTenThousandLinesAnswersEveryLine(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	hash := bcryptHash(t, "an imported password")
	var b strings.Builder
	want := make([]string, 0, 10_000) // each line's status, then the field of a failure
	for i := 1; i <= 10_000; i++ {
		switch i % 1000 {
		case 7: // cut short by whoever wrote the file
			fmt.Fprintf(&b, `{"username":"import-user-%05d","password_hash":"%s"`+"\n", i, hash[:20])
			want = append(want, "failed line")
		case 8: // the user of the line before last, in other case
			fmt.Fprintf(&b, `{"username":"IMPORT-USER-%05d","password_hash":%q}`+"\n", i-2, hash)
			want = append(want, "failed username")
		case 9: // a clear-text password, hashed with argon2id on import
			fmt.Fprintf(&b, `{"username":"import-user-%05d","password":"a clear-text password %d"}`+"\n", i, i)
			want = append(want, "created")
		case 10:
			fmt.Fprintf(&b, `{"username":"import-user-%05d","password_hash":"$argon2id$v=19$m=65536,t=2,p=1$short"}`+"\n", i)
			want = append(want, "failed password_hash")
		default:
			fmt.Fprintf(&b, `{"username":"import-user-%05d","password_hash":%q}`+"\n", i, hash)
			want = append(want, "created")
		}
	}
	res := s.importUsers(admin, b.String())

	if len(res.Results) != 10_000 || !res.Complete || res.BodyError != nil {
		t.Fatalf("%d results, complete %v, body error %+v", len(res.Results), res.Complete, res.BodyError)
	}
	created := 0
	for i, r := range res.Results {
		got := r.Status
		if name, _ := r.Error.field(); name != "" {
			got += " " + name
		}
		if r.Line != i+1 || got != want[i] {
			t.Errorf("result %d: line %d %q (%+v), want line %d %q", i, r.Line, got, r.Error, i+1, want[i])
		}
		if r.Status == "created" {
			created++
			if r.UserID == "" {
				t.Errorf("line %d: created with no user id", r.Line)
			}
		}
	}
	if res.Created != created || created != 9_970 || res.Existing != 0 || res.Failed != 30 {
		t.Errorf("counts: created %d existing %d failed %d; %d results say created", res.Created, res.Existing, res.Failed, created)
	}
	if n := s.Count("users"); n != created {
		t.Fatalf("%d users stored, %d reported created", n, created)
	}
	s.checkNoDuplicates()
	// Provisioned by the background worker through the outbox, in order.
	testkit.WaitFor(t, 30*time.Second, "the first imported user at Vonage", func() bool {
		return s.userState("import-user-00001") == "provisioned"
	})
	if login := s.PostForm("/v1/token", map[string][]string{"grant_type": {"password"}, "username": {"import-user-00001"}, "password": {"an imported password"}}); login.Status != http.StatusOK {
		t.Fatalf("login as an imported user: %d %s", login.Status, login.Body)
	}
}

// userState returns the provisioning state of the user named name.
func (s *stack) userState(name string) string {
	s.T.Helper()
	return s.User(name).Provisioning
}

// cutTransport sends a request's headers, announcing its whole body (by
// Content-Length, or as one chunk), and the first n bytes of the body; then
// it stops sending, as a client that gives up does, and reads the answer.
type cutTransport struct {
	n       int
	chunked bool
}

func (ct cutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", req.Method, req.URL.RequestURI(), req.URL.Host)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	if ct.chunked {
		fmt.Fprintf(&head, "Transfer-Encoding: chunked\r\n\r\n%x\r\n", len(body))
	} else {
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", len(body))
	}
	if _, err := conn.Write(append(head.Bytes(), body[:ct.n]...)); err != nil {
		return nil, err
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res, err
}

// importCut posts file to the import through ct and decodes a 200 answer.
func (s *stack) importCut(admin, file string, ct cutTransport) importResponse {
	s.T.Helper()
	client := &http.Client{Transport: contracttest.Transport(s.T, ct)}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/admin/users/import", strings.NewReader(file))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", admin)
	resp, err := client.Do(req)
	if err != nil {
		s.T.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.T.Fatalf("cut import: %d %s", resp.StatusCode, body)
	}
	return decodeImport(s.T, body)
}

func TestImportCutShortReportsWhatArrivedAndARetryCompletesIt(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	file := importFile("cut-user", 300, bcryptHash(t, "an imported password"))
	// Cut in the middle of line 121's JSON.
	cutAt := strings.Index(file, `{"username":"cut-user-00121"`) + 30

	res := s.importCut(admin, file, cutTransport{n: cutAt})
	wantReason := fmt.Sprintf("ended after %d of the %d bytes its Content-Length announced: the client stopped sending", cutAt, len(file))
	if name, reason := res.BodyError.field(); res.Complete || name != "body" || reason != wantReason {
		t.Fatalf("complete %v, body error %+v; want %q", res.Complete, res.BodyError, wantReason)
	}
	if len(res.Results) != 121 || res.Created != 120 || res.Failed != 1 {
		t.Fatalf("%d results, created %d failed %d", len(res.Results), res.Created, res.Failed)
	}
	if name, reason := res.Results[120].Error.field(); res.Results[120].Line != 121 || name != "line" || !strings.Contains(reason, "cut off") {
		t.Fatalf("the cut line: %+v", res.Results[120])
	}
	if n := s.Count("users"); n != 120 {
		t.Fatalf("%d users after the cut import, want the 120 whole lines", n)
	}

	retry := s.importUsers(admin, file)
	if !retry.Complete || len(retry.Results) != 300 || retry.Existing != 120 || retry.Created != 180 || retry.Failed != 0 {
		t.Fatalf("retry: complete %v, %d results, existing %d created %d failed %d", retry.Complete, len(retry.Results), retry.Existing, retry.Created, retry.Failed)
	}
	for i, r := range retry.Results {
		if want := map[bool]string{true: "exists", false: "created"}[i < 120]; r.Status != want || r.Line != i+1 || r.UserID == "" {
			t.Fatalf("retry line %d: %+v, want %s", i+1, r, want)
		}
	}
	if n := s.Count("users"); n != 300 {
		t.Fatalf("%d users after the retry, want 300", n)
	}
	s.checkNoDuplicates()

	// The same with a chunked body: its last chunk never comes.
	res = s.importCut(admin, file, cutTransport{n: cutAt, chunked: true})
	wantReason = fmt.Sprintf("ended after %d bytes, before its last chunk: the client stopped sending", cutAt)
	if name, reason := res.BodyError.field(); res.Complete || name != "body" || reason != wantReason || res.Existing != 120 || res.Failed != 1 {
		t.Fatalf("chunked: complete %v, body error %+v, existing %d failed %d; want %q", res.Complete, res.BodyError, res.Existing, res.Failed, wantReason)
	}

	// A file whose own last line is cut short arrives whole: that line is
	// reported as JSON that ends early, the rest are imported.
	short := importFile("short-user", 3, bcryptHash(t, "an imported password"))
	res = s.importUsers(admin, strings.TrimSuffix(short, "\n")[:len(short)-20])
	if name, reason := res.Results[2].Error.field(); !res.Complete || res.Created != 2 || name != "line" || reason != "is not valid JSON: it ends before its object does" {
		t.Fatalf("a file with a short last line: %+v %+v", res, res.Results[2].Error)
	}
}

func TestImportNamesTheFieldOfEveryBadLine(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	hash := bcryptHash(t, "an imported password")
	// A deleted user's name stays reserved.
	gone := s.PostJSON("/v1/admin/users", map[string]string{"username": "deleted-user", "password": "correct horse battery"}, "Authorization", admin).JSON(t)
	if r := s.Do(http.MethodDelete, "/v1/admin/users/"+gone["id"].(string), "", nil, "Authorization", admin); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	secret := "a secret password of the file"
	cases := []struct {
		line, field, reason string
	}{
		{`{"username":"new-user","password":"` + secret + `"}`, "", ""},
		{`{"username":"New-User","password_hash":"` + hash + `"}`, "username", "repeats line 1"},
		{`{"username":"broken-user","password":"` + secret + `",`, "line", "ends before its object does"},
		{`{"username":"broken-user" "password":"` + secret + `"}`, "line", "is not valid JSON (at byte 27)"},
		{`["new-user"]`, "line", "must be a JSON object"},
		{`{"username":"long-user","display_name":"` + strings.Repeat("x", 20_000) + `"}`, "line", "bytes long; a user's line is at most 16384"},
		{`{"password":"` + secret + `"}`, "username", "is required"},
		{`{"username":"-bad","password":"` + secret + `"}`, "username", "must be 3 to 64 characters"},
		{`{"username":"no-password"}`, "password", "is required (or password_hash)"},
		{`{"username":"short-password","password":"short"}`, "password", "at least 8 characters"},
		{`{"username":"both-given","password":"` + secret + `","password_hash":"` + hash + `"}`, "password_hash", "not both"},
		{`{"username":"bad-bcrypt","password_hash":"$2b$10$tooshort"}`, "password_hash", "not a well-formed bcrypt hash"},
		{`{"username":"bad-argon2","password_hash":"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5"}`, "password_hash", "not a usable argon2id hash"},
		{`{"username":"md5-user","password_hash":"5f4dcc3b5aa765d61d8327deb882cf99"}`, "password_hash", "must be a bcrypt"},
		{`{"username":"number-name","password":"` + secret + `","display_name":7}`, "display_name", "must be a string"},
		{`{"username":"bad-image","password":"` + secret + `","image_url":"not a url"}`, "image_url", "absolute http or https URL"},
		{`{"username":"nul-name","password":"` + secret + `","display_name":"a\u0000b"}`, "display_name", "without NUL characters"},
		{`{"username":"no-policy","password":"` + secret + `","policy":"no-such-policy"}`, "policy", `no policy is called "no-such-policy"`},
		{`{"username":"deleted-user","password":"` + secret + `"}`, "username", "stays reserved"},
		{``, "", ""}, // blank lines have no result
		{`{"username":"last-user","password_hash":"` + hash + `"}`, "", ""},
	}
	var file []string
	for _, c := range cases {
		file = append(file, c.line)
	}
	res := s.importUsers(admin, strings.Join(file, "\r\n"))
	if len(res.Results) != len(cases)-1 || res.Created != 2 || res.Failed != len(cases)-3 {
		t.Fatalf("%d results, created %d failed %d", len(res.Results), res.Created, res.Failed)
	}
	byLine := map[int]importOutcome{}
	for _, r := range res.Results {
		byLine[r.Line] = r
	}
	for i, c := range cases {
		r, ok := byLine[i+1]
		if c.line == "" {
			if ok {
				t.Errorf("blank line %d has a result: %+v", i+1, r)
			}
			continue
		}
		name, reason := r.Error.field()
		if c.field == "" {
			if r.Status != "created" {
				t.Errorf("line %d: %+v, want created", i+1, r)
			}
			continue
		}
		if r.Status != "failed" || name != c.field || !strings.Contains(reason, c.reason) {
			t.Errorf("line %d: %s %s %q, want failed %s %q", i+1, r.Status, name, reason, c.field, c.reason)
		}
	}
	if n := s.Count("users"); n != 2 {
		t.Fatalf("%d users, want the 2 good lines", n)
	}
	raw := s.Do(http.MethodPost, "/v1/admin/users/import", "application/x-ndjson", strings.NewReader(strings.Join(file, "\n")), "Authorization", admin)
	if bytes.Contains(raw.Body, []byte(secret)) || bytes.Contains(raw.Body, []byte(hash)) {
		t.Fatal("an import answer shows a password or a hash")
	}

	if r := s.Do(http.MethodPost, "/v1/admin/users/import", "application/x-ndjson", strings.NewReader("\n\n"), "Authorization", admin); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"name":"body"`) {
		t.Fatalf("an empty import: %d %s", r.Status, r.Body)
	}
}

func TestImportOverTheLimitIsRefusedWhole(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	line := `{"username":"too-many-users","password_hash":"` + bcryptHash(t, "an imported password") + `"}` + "\n"
	big := strings.Repeat(line, 16<<20/len(line)+1)
	for name, body := range map[string]io.Reader{
		"announced":  strings.NewReader(big),
		"chunked":    struct{ io.Reader }{strings.NewReader(big)}, // no length known up front
		"many lines": strings.NewReader(strings.Repeat("\n", 100_000)),
	} {
		r := s.Do(http.MethodPost, "/v1/admin/users/import", "application/x-ndjson", body, "Authorization", admin)
		p := r.JSON(t)
		want := "must be at most 16777216 bytes"
		if name == "many lines" {
			want = "must hold at most 100000 lines"
		}
		if r.Status != http.StatusRequestEntityTooLarge || p["code"] != "request_too_large" ||
			!strings.Contains(fmt.Sprint(p["invalid_parameters"]), "name:body reason:"+want) {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if n := s.Count("users"); n != 0 {
		t.Fatalf("%d users written by refused imports", n)
	}
}

// TestImportBodyHasItsOwnReadDeadline runs the server as serve builds it
// but with a read timeout that has always passed by the time a handler
// runs: any other body fails to arrive, and the import's still does.
func TestImportBodyHasItsOwnReadDeadline(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	srv := server.NewHTTPServer(s.App.Handler)
	srv.ReadTimeout = time.Nanosecond
	ts := httptest.NewUnstartedServer(s.App.Handler)
	ts.Config = srv
	ts.Start()
	t.Cleanup(ts.Close)
	s.URL = ts.URL

	// Larger than what the server reads along with the headers.
	// The server answers 400 and closes the connection; a client still
	// writing the body by then sees the connection broken instead.
	big, _ := json.Marshal(map[string]string{"username": "new-user", "password": "correct horse battery", "padding": strings.Repeat("x", 50_000)})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/admin/users", bytes.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", admin)
	answer, err := http.DefaultClient.Do(req)
	switch {
	case err != nil:
		if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("a body under the server's read timeout: %v", err)
		}
	default:
		b, _ := io.ReadAll(answer.Body)
		answer.Body.Close()
		if answer.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"name":"body"`) {
			t.Fatalf("a body under the server's read timeout arrived: %d %s", answer.StatusCode, b)
		}
	}
	res := s.importUsers(admin, importFile("timely-user", 2000, bcryptHash(t, "an imported password")))
	if !res.Complete || res.Created != 2000 {
		t.Fatalf("import under the server's read timeout: complete %v, created %d, body error %+v", res.Complete, res.Created, res.BodyError)
	}
	if n := s.Count("users"); n != 2000 {
		t.Fatalf("%d users", n)
	}
}

func TestConcurrentImportsOfOneFileCreateEachUserOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	file := importFile("racing-user", 2000, bcryptHash(t, "an imported password"))
	answers := make([]importResponse, 2)
	done := make(chan int)
	for i := range answers {
		go func() {
			defer func() { done <- i }()
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/admin/users/import", strings.NewReader(file))
			req.Header.Set("Content-Type", "application/x-ndjson")
			req.Header.Set("Authorization", admin)
			res, err := s.Client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			if err := json.NewDecoder(res.Body).Decode(&answers[i]); err != nil || res.StatusCode != http.StatusOK {
				t.Errorf("import %d: %d %v", i, res.StatusCode, err)
			}
		}()
	}
	<-done
	<-done
	for line := range 2000 {
		a, b := answers[0].Results, answers[1].Results
		if len(a) != 2000 || len(b) != 2000 {
			t.Fatalf("%d and %d results", len(a), len(b))
		}
		statuses := a[line].Status + "+" + b[line].Status
		if (statuses != "created+exists" && statuses != "exists+created") || a[line].UserID != b[line].UserID {
			t.Fatalf("line %d: %+v and %+v", line+1, a[line], b[line])
		}
	}
	if n := s.Count("users"); n != 2000 {
		t.Fatalf("%d users", n)
	}
	s.checkNoDuplicates()
}
