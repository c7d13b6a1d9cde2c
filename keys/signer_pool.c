//go:build cgo

#define _GNU_SOURCE
#include "signer_pool.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

// The libcrypto 3 functions used, declared here so that no OpenSSL headers
// are needed: they are stable parts of the OpenSSL 3 ABI.
typedef struct rsa_st RSA;
static RSA *(*p_d2i_RSAPrivateKey)(RSA **, const unsigned char **, long);
static int (*p_RSA_sign)(int, const unsigned char *, unsigned int, unsigned char *, unsigned int *, RSA *);
static int (*p_RSA_size)(const RSA *);
static void (*p_RSA_free)(RSA *);
static unsigned long (*p_ERR_get_error)(void);
static void (*p_ERR_clear_error)(void);
static void (*p_ERR_error_string_n)(unsigned long, char *, size_t);
static const char *(*p_OpenSSL_version)(int);

#define SK_NID_SHA256 672 // NID_sha256
#define SK_OPENSSL_VERSION 0 // OPENSSL_VERSION

int sk_load(const char *name, char *err, size_t errlen) {
	void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	struct {
		const char *name;
		void **fn;
	} syms[] = {
		{"d2i_RSAPrivateKey", (void **)&p_d2i_RSAPrivateKey},
		{"RSA_sign", (void **)&p_RSA_sign},
		{"RSA_size", (void **)&p_RSA_size},
		{"RSA_free", (void **)&p_RSA_free},
		{"ERR_get_error", (void **)&p_ERR_get_error},
		{"ERR_clear_error", (void **)&p_ERR_clear_error},
		{"ERR_error_string_n", (void **)&p_ERR_error_string_n},
		{"OpenSSL_version", (void **)&p_OpenSSL_version},
	};
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		*syms[i].fn = dlsym(lib, syms[i].name);
		if (*syms[i].fn == NULL) {
			snprintf(err, errlen, "%s has no %s", name, syms[i].name);
			dlclose(lib);
			return -1;
		}
	}
	// The library stays loaded for the life of the process.
	return 0;
}

const char *sk_version(void) { return p_OpenSSL_version(SK_OPENSSL_VERSION); }

void sk_error_string(unsigned long code, char *buf, size_t len) { p_ERR_error_string_n(code, buf, len); }

static int live_threads, live_keys;
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;

static void live_add(int *n, int d) {
	pthread_mutex_lock(&live_mu);
	*n += d;
	pthread_mutex_unlock(&live_mu);
}

static int live_get(int *n) {
	pthread_mutex_lock(&live_mu);
	int v = *n;
	pthread_mutex_unlock(&live_mu);
	return v;
}

int sk_live_threads(void) { return live_get(&live_threads); }
int sk_live_keys(void) { return live_get(&live_keys); }

struct sk_pool {
	RSA *rsa;
	int sigsize;
	int nslots;
	sk_slot *slots;
	unsigned char *sigs;

	pthread_mutex_t mu;
	pthread_cond_t cond;
	int qhead, qtail; // pending requests, oldest first
	int done;         // done requests
	int closing;

	int rfd, wfd;
	int nthreads;
	pthread_t *threads;
};

// sign makes the PKCS#1 v1.5 signature of a SHA-256 digest. RSA_sign builds
// the DigestInfo itself and needs no per-call context, unlike EVP_PKEY_sign.
static int sign(RSA *rsa, const unsigned char *digest, unsigned char *sig, unsigned int *siglen, unsigned long *err) {
	if (p_RSA_sign(SK_NID_SHA256, digest, 32, sig, siglen, rsa) == 1) {
		return SK_OK;
	}
	*err = p_ERR_get_error();
	p_ERR_clear_error(); // the error queue is per thread
	return SK_FAILED;
}

static void wake(sk_pool *p) {
	uint64_t one = 1;
	// A full pipe (or eventfd counter) already means a wake-up is pending.
	ssize_t n = write(p->wfd, &one, p->wfd == p->rfd ? 8 : 1);
	(void)n;
}

void sk_pool_wake(sk_pool *p) { wake(p); }

// push_done links slot i into the done list and reports whether the list
// was empty: only then is a wake-up written, since the reader takes the
// whole list each time it wakes. p->mu must be held.
static int push_done(sk_pool *p, int i) {
	int was_empty = p->done < 0;
	p->slots[i].next = p->done;
	p->done = i;
	return was_empty;
}

static void *worker(void *arg) {
	sk_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->qhead < 0 && !p->closing) {
			pthread_cond_wait(&p->cond, &p->mu);
		}
		if (p->qhead < 0) {
			break;
		}
		int i = p->qhead;
		sk_slot *s = &p->slots[i];
		p->qhead = s->next;
		if (p->qhead < 0) {
			p->qtail = -1;
		}
		pthread_mutex_unlock(&p->mu);

		s->err = 0;
		s->status = sign(p->rsa, s->digest, p->sigs + (size_t)i * p->sigsize, &s->siglen, &s->err);

		pthread_mutex_lock(&p->mu);
		if (push_done(p, i)) {
			pthread_mutex_unlock(&p->mu);
			wake(p);
			pthread_mutex_lock(&p->mu);
		}
	}
	pthread_mutex_unlock(&p->mu);
	live_add(&live_threads, -1);
	return NULL;
}

static int open_fds(sk_pool *p) {
#ifdef __linux__
	p->rfd = p->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return p->rfd < 0 ? -1 : 0;
#else
	int fds[2];
	if (pipe(fds) != 0) {
		return -1;
	}
	for (int k = 0; k < 2; k++) {
		fcntl(fds[k], F_SETFL, fcntl(fds[k], F_GETFL) | O_NONBLOCK);
		fcntl(fds[k], F_SETFD, FD_CLOEXEC);
	}
	p->rfd = fds[0];
	p->wfd = fds[1];
	return 0;
#endif
}

sk_pool *sk_pool_new(const unsigned char *der, long derlen, int nthreads, int nslots, unsigned long *err) {
	*err = 0;
	const unsigned char *q = der;
	RSA *rsa = p_d2i_RSAPrivateKey(NULL, &q, derlen);
	if (rsa == NULL) {
		*err = p_ERR_get_error();
		p_ERR_clear_error();
		return NULL;
	}
	live_add(&live_keys, 1);
	sk_pool *p = calloc(1, sizeof *p);
	if (p == NULL) {
		p_RSA_free(rsa);
		live_add(&live_keys, -1);
		return NULL;
	}
	p->rsa = rsa;
	p->rfd = p->wfd = -1;
	p->sigsize = p_RSA_size(rsa);
	p->qhead = p->qtail = p->done = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (nthreads == 0) {
		return p; // a direct signer: sk_pool_sign on the caller's thread only
	}
	p->nslots = nslots;
	p->slots = calloc((size_t)nslots, sizeof *p->slots);
	p->sigs = calloc((size_t)nslots, (size_t)p->sigsize);
	p->threads = calloc((size_t)nthreads, sizeof *p->threads);
	if (p->slots == NULL || p->sigs == NULL || p->threads == NULL || open_fds(p) != 0) {
		sk_pool_free(p);
		return NULL;
	}
	for (int k = 0; k < nthreads; k++) {
		if (pthread_create(&p->threads[k], NULL, worker, p) != 0) {
			sk_pool_shutdown(p);
			if (p->rfd >= 0) {
				close(p->rfd);
			}
			sk_pool_free(p);
			return NULL;
		}
		live_add(&live_threads, 1);
		p->nthreads++;
	}
	return p;
}

sk_slot *sk_pool_slot(sk_pool *p, int i) { return &p->slots[i]; }
unsigned char *sk_pool_sig(sk_pool *p, int i) { return p->sigs + (size_t)i * p->sigsize; }
int sk_pool_fd(sk_pool *p) { return p->rfd; }
int sk_pool_sig_size(sk_pool *p) { return p->sigsize; }

int sk_pool_submit(sk_pool *p, int i) {
	pthread_mutex_lock(&p->mu);
	if (p->closing) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	p->slots[i].next = -1;
	if (p->qtail < 0) {
		p->qhead = i;
	} else {
		p->slots[p->qtail].next = i;
	}
	p->qtail = i;
	pthread_mutex_unlock(&p->mu);
	pthread_cond_signal(&p->cond);
	return 0;
}

int sk_pool_drain(sk_pool *p, int32_t *out, int max) {
	int n = 0;
	pthread_mutex_lock(&p->mu);
	while (p->done >= 0 && n < max) {
		out[n++] = p->done;
		p->done = p->slots[p->done].next;
	}
	int more = p->done >= 0;
	pthread_mutex_unlock(&p->mu);
	if (more) {
		wake(p); // the rest is read after the next wake-up
	}
	return n;
}

void sk_pool_shutdown(sk_pool *p) {
	pthread_mutex_lock(&p->mu);
	p->closing = 1;
	int woke = 0;
	while (p->qhead >= 0) {
		int i = p->qhead;
		p->qhead = p->slots[i].next;
		p->slots[i].status = SK_CLOSED;
		woke |= push_done(p, i);
	}
	p->qtail = -1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	if (woke) {
		wake(p);
	}
	for (int k = 0; k < p->nthreads; k++) {
		pthread_join(p->threads[k], NULL);
	}
	p->nthreads = 0;
}

void sk_pool_free(sk_pool *p) {
	if (p->wfd >= 0 && p->wfd != p->rfd) {
		close(p->wfd);
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p->sigs);
	free(p->slots);
	p_RSA_free(p->rsa);
	live_add(&live_keys, -1);
	free(p);
}

int sk_pool_sign(sk_pool *p, const unsigned char *digest, unsigned char *sig, unsigned int *siglen, unsigned long *err) {
	*err = 0;
	return sign(p->rsa, digest, sig, siglen, err);
}

int sk_pool_sign_batch(sk_pool *p, const unsigned char *digests, int n, unsigned char *sigs, unsigned int *siglens) {
	for (int k = 0; k < n; k++) {
		unsigned long err;
		if (sign(p->rsa, digests + 32 * k, sigs + (size_t)k * p->sigsize, &siglens[k], &err) != SK_OK) {
			return -1;
		}
	}
	return 0;
}
