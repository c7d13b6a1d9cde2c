package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
)

// Metrics are what GET /metrics exposes: requests, tokens, logins and
// sign-ups by outcome, provisioning, and signing.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	signups  *prometheus.CounterVec
	// SignDuration observes each JWT signature, for the signer in use.
	SignDuration prometheus.Observer
}

// NewMetrics registers sdkauth's metrics, plus the Go runtime's and the
// process's, in a registry of their own. signer names the Signer in use.
func NewMetrics(signer string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sdkauth_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sdkauth_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sdkauth_token_requests_total", Help: "Token endpoint requests by grant type and outcome (ok or the error code); grant=password outcomes are the login results.",
		}, []string{"grant", "outcome"}),
		signups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sdkauth_signups_total", Help: "Sign-ups by outcome: provisioned, pending (Vonage unreachable), failed (refused by Vonage for good) or the error code.",
		}, []string{"outcome"}),
	}
	sign := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "sdkauth_jwt_sign_duration_seconds", Help: "Time to sign one JWT.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025},
	})
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sdkauth_signer_info", Help: "The JWT signer in use (value 1).", ConstLabels: prometheus.Labels{"signer": signer},
	})
	info.Set(1)
	m.SignDuration = sign
	reg.MustRegister(m.requests, m.duration, m.tokens, m.signups, sign, info)
	return m
}

// WatchProvisioning exposes the provisioning outbox through stats, read at
// each scrape.
func (m *Metrics) WatchProvisioning(stats func(context.Context) (users.Stats, error)) {
	m.reg.MustRegister(&provisioningCollector{stats: stats})
}

var (
	provDepth    = prometheus.NewDesc("sdkauth_provisioning_queue_depth", "Jobs waiting in the provisioning outbox to be tried (all replicas).", nil, nil)
	provFailed   = prometheus.NewDesc("sdkauth_provisioning_failed_jobs", "Provisioning jobs that ended as failed and wait to be retried (all replicas).", nil, nil)
	provOldest   = prometheus.NewDesc("sdkauth_provisioning_oldest_job_age_seconds", "Age of the oldest waiting provisioning job.", nil, nil)
	provAttempts = prometheus.NewDesc("sdkauth_provisioning_attempts_total", "Calls to Vonage this process made for provisioning jobs.", nil, nil)
	provDone     = prometheus.NewDesc("sdkauth_provisioning_succeeded_total", "Provisioning jobs this process completed.", nil, nil)
	provFailures = prometheus.NewDesc("sdkauth_provisioning_failures_total", "Failed provisioning attempts by job kind.", []string{"kind"}, nil)
)

type provisioningCollector struct {
	stats func(context.Context) (users.Stats, error)
}

func (c *provisioningCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{provDepth, provFailed, provOldest, provAttempts, provDone, provFailures} {
		ch <- d
	}
}

func (c *provisioningCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(provDepth, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(provDepth, prometheus.GaugeValue, float64(s.Depth))
	ch <- prometheus.MustNewConstMetric(provFailed, prometheus.GaugeValue, float64(s.FailedJobs))
	ch <- prometheus.MustNewConstMetric(provOldest, prometheus.GaugeValue, s.OldestAge.Seconds())
	ch <- prometheus.MustNewConstMetric(provAttempts, prometheus.CounterValue, float64(s.Attempts))
	ch <- prometheus.MustNewConstMetric(provDone, prometheus.CounterValue, float64(s.Succeeded))
	for kind, n := range s.Failures {
		ch <- prometheus.MustNewConstMetric(provFailures, prometheus.CounterValue, float64(n), kind)
	}
}

// observe is the middleware that counts and times requests by route, so
// ids in paths do not explode the label space.
func (m *Metrics) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
}

func (m *Metrics) handler() gin.HandlerFunc {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return gin.WrapH(h)
}

// outcome is the error code a handler failed with, or "ok".
func outcome(c *gin.Context) string {
	if code := c.GetString(ctxCode); code != "" {
		return code
	}
	return "ok"
}

// countTokens is the token endpoint's middleware that counts each request
// by the grant type the handler read (ctxGrantType) and its outcome.
func (m *Metrics) countTokens(c *gin.Context) {
	if m == nil {
		return
	}
	// Deferred so that a request that panics is counted too.
	defer func() {
		grant := c.GetString(ctxGrantType)
		switch grant {
		case "password", "refresh_token", "client_credentials":
		default:
			grant = "other"
		}
		m.tokens.WithLabelValues(grant, outcome(c)).Inc()
	}()
	c.Next()
}

// countSignups is the sign-up middleware that counts each request by the
// provisioning state the handler left (ctxSignupResult) or, without one,
// its outcome.
func (m *Metrics) countSignups(c *gin.Context) {
	if m == nil {
		return
	}
	// Deferred so that a request that panics is counted too.
	defer func() {
		result := c.GetString(ctxSignupResult)
		if result == "" {
			result = outcome(c)
		}
		m.signups.WithLabelValues(result).Inc()
	}()
	c.Next()
}

// TimeSigner returns s with each signature timed into SignDuration.
func (m *Metrics) TimeSigner(s keys.Signer) keys.Signer {
	return timedSigner{Signer: s, obs: m.SignDuration}
}

type timedSigner struct {
	keys.Signer
	obs prometheus.Observer
}

func (t timedSigner) Sign(c keys.Claims) (string, error) {
	start := time.Now()
	tok, err := t.Signer.Sign(c)
	t.obs.Observe(time.Since(start).Seconds())
	return tok, err
}
