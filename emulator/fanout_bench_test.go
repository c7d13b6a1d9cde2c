package emulator_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sdkauth/sdkauth/internal/testkit"
)

// BenchmarkFanOut measures Client SDK fan-out at the emulator as its own
// process (cmd/vonage-emulator, built for the run): 1,000 sessions, one per
// user, in 100 conversations of 10 members; 16 senders post text messages
// round-robin over the conversations, and every message reaches the 10
// sessions of its conversation. It reports deliveries per second, the p99 of
// send-to-receive latency, and the emulator's peak RSS (VmHWM).
//
//	go test -run '^$' -bench FanOut -benchtime 20000x ./emulator
func BenchmarkFanOut(b *testing.B) {
	const users, convs, senders = 1000, 100, 16
	bin := buildEmulator(b)
	addr := freeLoopback(b)
	cmd := exec.Command(bin, "--addr", addr, "--api-key", "k", "--api-secret", "s", "--log-level", "error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	base := "http://" + addr
	waitListening(b, addr)

	h := newBenchHarness(b, base)
	convIDs := make([]string, convs)
	for i := range convIDs {
		convIDs[i] = h.call("POST", "/v1/conversations", h.admin, map[string]any{"name": fmt.Sprint("room-", i)})["id"].(string)
	}
	var delivered atomic.Int64
	var latMu sync.Mutex
	var latencies []time.Duration
	members := make([]string, users) // member id of user i in conversation i%convs
	var wg sync.WaitGroup
	for i := range users {
		name := fmt.Sprint("user-", i)
		h.call("POST", "/v1/users", h.admin, map[string]any{"name": name})
		members[i] = h.call("POST", "/v1/conversations/"+convIDs[i%convs]+"/members", h.admin,
			map[string]any{"state": "joined", "user": map[string]any{"name": name}})["id"].(string)
		conn := h.session(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, msg, err := conn.Read(context.Background())
				if err != nil {
					return
				}
				if !bytes.HasPrefix(msg, []byte(`42["message"`)) {
					continue
				}
				now := time.Now()
				i := bytes.Index(msg, []byte(`"text":"`))
				sent, _ := strconv.ParseInt(string(msg[i+8:i+8+bytes.IndexByte(msg[i+8:], '"')]), 10, 64)
				latMu.Lock()
				latencies = append(latencies, now.Sub(time.Unix(0, sent)))
				latMu.Unlock()
				delivered.Add(1)
			}
		}()
		defer conn.CloseNow()
	}
	perConv := users / convs

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var sendWG sync.WaitGroup
	for range senders {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= b.N {
					return
				}
				c := n % convs
				from := members[c+convs*((n/convs)%perConv)] // members of conversation c are users c, c+100, …
				h.call("POST", "/v1/conversations/"+convIDs[c]+"/events", h.admin, map[string]any{
					"type": "message", "from": from,
					"body": map[string]any{"message_type": "text", "text": strconv.FormatInt(time.Now().UnixNano(), 10)},
				})
			}
		}()
	}
	sendWG.Wait()
	want := int64(b.N * perConv)
	deadline := time.Now().Add(2 * time.Minute)
	for delivered.Load() < want && time.Now().Before(deadline) {
		// Part of what is measured: the last delivery, to within 1 ms.
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got := delivered.Load(); got != want {
		b.Fatalf("delivered %d of %d", got, want)
	}
	latMu.Lock()
	slices.Sort(latencies)
	p99 := latencies[len(latencies)*99/100]
	latMu.Unlock()
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "messages/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(peakRSS(b, cmd.Process.Pid))/(1<<20), "emulator-peak-RSS-MiB")
}

// benchHarness calls a running emulator with an application it created.
type benchHarness struct {
	b           testing.TB
	base, appID string
	key         any
	admin       string
	client      *http.Client
}

func newBenchHarness(b testing.TB, base string) *benchHarness {
	h := &benchHarness{b: b, base: base, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	app := h.do("POST", "/v2/applications", "", map[string]any{"name": "bench"})
	h.appID = app["id"].(string)
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(app["keys"].(map[string]any)["private_key"].(string)))
	if err != nil {
		b.Fatal(err)
	}
	h.key = key
	h.admin = h.token("", 3600)
	return h
}

func (h *benchHarness) token(sub string, ttl int64) string {
	now := time.Now().Unix()
	c := jwt.MapClaims{"application_id": h.appID, "iat": now, "exp": now + ttl, "jti": fmt.Sprint(now, "-", sub)}
	if sub != "" {
		c["sub"], c["acl"] = sub, clientSDKACL()
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(h.key)
	if err != nil {
		h.b.Fatal(err)
	}
	return s
}

// call sends an authenticated JSON request and decodes the JSON answer.
func (h *benchHarness) call(method, path, token string, body any) map[string]any {
	return h.do(method, path, token, body)
}

func (h *benchHarness) do(method, path, token string, body any) map[string]any {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, h.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token == "" {
		req.SetBasicAuth("k", "s")
	} else {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := h.client.Do(req)
	if err != nil {
		h.b.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		h.b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// session opens a Client SDK session for a user and reads up to its
// session:success.
func (h *benchHarness) session(user string) *websocket.Conn {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(h.base, "http") + "/v2/rtc/?EIO=4&transport=websocket&token=" + h.token(user, 3600)
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		h.b.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	for _, step := range []string{"open", "connect", "success"} {
		if step == "connect" {
			if err := conn.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
				h.b.Fatal(err)
			}
		}
		if _, _, err := conn.Read(ctx); err != nil {
			h.b.Fatalf("session %s: %s: %v", user, step, err)
		}
	}
	return conn
}

// buildEmulator builds cmd/vonage-emulator for the benchmark.
func buildEmulator(b testing.TB) string {
	bin := filepath.Join(b.TempDir(), "vonage-emulator")
	build := exec.Command("go", "build", "-o", bin, "./cmd/vonage-emulator")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the emulator: %v\n%s", err, out)
	}
	return bin
}

func freeLoopback(b testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(b testing.TB, addr string) {
	testkit.WaitFor(b, 10*time.Second, "the emulator to listen on "+addr, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(b testing.TB, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
