// OpenSSL's libcrypto (Debian libssl-dev): reading a PEM certificate and private key, the certificate's
// thumbprint, and an RS256 signature for OAuth2 client assertions. All logic stays in Swift (TriageMail).
#ifndef MAILTRIAGE_CCRYPTO_H
#define MAILTRIAGE_CCRYPTO_H
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#endif
