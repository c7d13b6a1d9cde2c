// The C half of the OpenSSL signer (signer_openssl.go): libcrypto 3 loaded
// with dlopen, so that no OpenSSL headers are needed to build, a key parsed
// once and signed with on the caller's thread (sk_pool_sign, what sdkauth
// uses), and the design it was measured against: a fixed pool of pthreads
// that sign SHA-256 digests taken from a queue and report completions
// through a descriptor the Go netpoller waits on.

#ifndef SDKAUTH_SIGNER_POOL_H
#define SDKAUTH_SIGNER_POOL_H

#include <stddef.h>
#include <stdint.h>

// sk_load dlopens name and resolves the few libcrypto functions the signer
// uses. It returns 0, or -1 with a message in err.
int sk_load(const char *name, char *err, size_t errlen);
// sk_version is OpenSSL_version(OPENSSL_VERSION) of the loaded library.
const char *sk_version(void);
// sk_error_string writes OpenSSL's text for an error code into buf.
void sk_error_string(unsigned long code, char *buf, size_t len);

// Request states.
enum { SK_OK = 0, SK_FAILED = 1, SK_CLOSED = 2 };

typedef struct {
	unsigned char digest[32];
	unsigned int siglen;
	int status;
	unsigned long err;
	int next; // link in the pending queue or the done list; -1 ends it
} sk_slot;

typedef struct sk_pool sk_pool;

// sk_pool_new parses a PKCS#1 DER RSA private key, checks it, and starts
// nthreads signing threads with nslots request slots and a completion
// descriptor. With no threads it makes none of those, and only
// sk_pool_sign (and sk_pool_sign_batch) sign. It returns NULL with an
// OpenSSL error code (or 0 for an allocation or thread failure) in *err.
sk_pool *sk_pool_new(const unsigned char *der, long derlen, int nthreads, int nslots, unsigned long *err);
// sk_pool_slot returns slot i, whose digest the caller fills before
// submitting it and whose result it reads after the slot is reported done.
sk_slot *sk_pool_slot(sk_pool *p, int i);
// sk_pool_sig returns the signature buffer of slot i.
unsigned char *sk_pool_sig(sk_pool *p, int i);
// sk_pool_sig_size is the size of a signature, RSA_size.
int sk_pool_sig_size(sk_pool *p);
// sk_pool_fd is the descriptor that becomes readable when requests are done.
int sk_pool_fd(sk_pool *p);
// sk_pool_submit queues slot i. It never blocks on signing: it takes the
// queue's mutex, which is held only to link or unlink a request. It returns
// -1 once the pool is closing.
int sk_pool_submit(sk_pool *p, int i);
// sk_pool_drain moves up to max done slot numbers into out and returns how
// many.
int sk_pool_drain(sk_pool *p, int32_t *out, int max);
// sk_pool_wake makes the descriptor readable.
void sk_pool_wake(sk_pool *p);
// sk_pool_sign signs one digest (32 bytes) on the calling thread into sig
// (RSA size bytes): SK_OK, or SK_FAILED with OpenSSL's error code in *err.
int sk_pool_sign(sk_pool *p, const unsigned char *digest, unsigned char *sig, unsigned int *siglen, unsigned long *err);
// sk_pool_sign_batch signs n digests (32 bytes each) one after another on
// the calling thread into sigs (RSA size bytes each); -1 if one fails.
int sk_pool_sign_batch(sk_pool *p, const unsigned char *digests, int n, unsigned char *sigs, unsigned int *siglens);
// sk_pool_shutdown fails every queued request with SK_CLOSED, lets the
// threads finish the signatures they are making, and joins them.
void sk_pool_shutdown(sk_pool *p);
// sk_pool_free frees the key and the slots, after sk_pool_shutdown. The
// read descriptor belongs to the caller.
void sk_pool_free(sk_pool *p);

// Counters for leak tests: live signing threads and live keys.
int sk_live_threads(void);
int sk_live_keys(void);

#endif
