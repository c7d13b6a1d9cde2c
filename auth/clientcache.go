package auth

import (
	"sync"
	"time"

	"github.com/sdkauth/sdkauth/db"
)

// clientCacheTTL bounds how long a replica trusts a service client row it
// read: a secret rotated or a client deleted on another replica stops
// working there within this long (at once on the replica that changed it).
// It spares the client_credentials hot path a database round trip.
const clientCacheTTL = time.Second

// clientCacheMax bounds the cache; service clients are few, so reaching it
// means someone is probing ids, and the cache simply starts over.
const clientCacheMax = 1024

// clientCache holds recently read service client rows by id. Only rows that
// exist are cached: unknown ids always go to the database (and are
// throttled there).
type clientCache struct {
	mu   sync.Mutex
	rows map[string]cachedClient
}

type cachedClient struct {
	row db.ServiceClient
	at  time.Time
}

func (c *clientCache) get(id string, now time.Time) (db.ServiceClient, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.rows[id]
	if !ok || now.Sub(e.at) > clientCacheTTL {
		return db.ServiceClient{}, false
	}
	return e.row, true
}

func (c *clientCache) put(row db.ServiceClient, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil || len(c.rows) >= clientCacheMax {
		c.rows = make(map[string]cachedClient)
	}
	c.rows[row.ID] = cachedClient{row: row, at: now}
}

func (c *clientCache) evict(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.rows, id)
}
