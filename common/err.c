/* SPDX-License-Identifier: MIT */
/* common/err.c -- error code text. */
#include "common/err.h"

#include <string.h>

const char *zx_strerror(int rc)
{
	switch (rc) {
	case ZX_OK: return "ok";
	case ZX_EFORMAT: return "malformed input";
	case ZX_ETRUNC: return "truncated input";
	case ZX_ELIMIT: return "limit reached";
	case ZX_ENOTSIG: return "no TSIG record";
	case ZX_ETSIG_BADKEY: return "TSIG BADKEY";
	case ZX_ETSIG_BADSIG: return "TSIG BADSIG";
	case ZX_ETSIG_BADTIME: return "TSIG BADTIME";
	case ZX_ETSIG_BADTRUNC: return "TSIG BADTRUNC";
	case ZX_ECONFIG: return "configuration error";
	case ZX_EPROXY: return "PROXY protocol error";
	case ZX_ERCODE: return "error rcode from peer";
	case ZX_EXFR: return "zone transfer protocol error";
	case ZX_EDIFF: return "IXFR diff does not apply";
	case ZX_EUPTODATE: return "already up to date";
	case ZX_EKAFKA: return "Kafka error";
	case ZX_ESTORE: return "store error";
	case ZX_ENOTFOUND: return "not found";
	case ZX_ESHUTDOWN: return "shutting down";
	case ZX_ECORRUPT: return "store data corrupt";
	case ZX_ESERIAL: return "serial not newer than the stored one";
	case ZX_ESTOREFULL: return "store full (store-size reached)";
	case ZX_ESOCKS: return "SOCKS5 protocol error";
	case ZX_ESOCKS_AUTH: return "SOCKS5 authentication refused";
	case ZX_ESOCKS_REFUSED: return "SOCKS5 request refused";
	case ZX_ESOCKS_UNREACHABLE: return "target unreachable behind the SOCKS5 proxy";
	case ZX_ETLS: return "TLS failed";
	case ZX_ETLS_VERIFY: return "TLS certificate verification failed";
	case ZX_ETLS_PIN: return "TLS public key matches no pin";
	default: break;
	}
	if (rc < 0 && rc > -1000) {
		return strerror(-rc); /* glibc: static for known values */
	}
	return "unknown error";
}

int zx_err_from_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return ZX_ECONNREFUSED;
	case ECONNRESET:
	case EPIPE:
		return ZX_ECONNRESET;
	case ETIMEDOUT:
		return ZX_ETIMEDOUT;
	case ENOMEM:
		return ZX_ENOMEM;
	default:
		return ZX_EIO;
	}
}
