// OpenSSL 3 from Debian's libssl-dev (pkg-config openssl), for DTLS-SRTP. The functions below wrap macros
// and variadic calls Swift cannot import (platform-notes.md lists them); each is one line.
#ifndef WASIM_OPENSSL_SHIM_H
#define WASIM_OPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/pem.h>
#include <openssl/bio.h>

static inline int wasim_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_min_proto_version(ctx, version); }
static inline int wasim_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_max_proto_version(ctx, version); }
static inline long wasim_ssl_ctx_set_read_ahead(SSL_CTX *ctx, int yes) { return SSL_CTX_set_read_ahead(ctx, yes); }
static inline long wasim_ssl_set_mtu(SSL *ssl, long mtu) { return SSL_set_mtu(ssl, mtu); }
static inline long wasim_ssl_set_options_no_query_mtu(SSL *ssl) { return (long)SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU); }
/// Microseconds until the DTLS retransmission timer fires; -1 when none is armed.
static inline long wasim_dtls_get_timeout_us(SSL *ssl) {
    struct timeval tv;
    if (DTLSv1_get_timeout(ssl, &tv) != 1) return -1;
    return (long)tv.tv_sec * 1000000L + (long)tv.tv_usec;
}
static inline long wasim_dtls_handle_timeout(SSL *ssl) { return DTLSv1_handle_timeout(ssl); }
static inline long wasim_bio_set_mem_eof_return(BIO *bio, int value) { return BIO_set_mem_eof_return(bio, value); }
static inline long wasim_bio_pending(BIO *bio) { return (long)BIO_ctrl_pending(bio); }
static inline const char *wasim_srtp_profile_name(SSL *ssl) {
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(ssl);
    return p ? p->name : 0;
}
static inline int wasim_tls1_2_version(void) { return DTLS1_2_VERSION; }
static inline int wasim_ssl_verify_peer_fail(void) { return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT; }
#endif
