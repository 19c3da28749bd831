/*
 * pkg-verify: the verdict pkg_install gives a signed package, made with pkg_install's own
 * library calls in pkg_install's order (pkgsrc pkgtools/pkg_install/files: lib/pkcs7.c
 * easy_pkcs7_verify, lib/pkg_signature.c pkg_verify_signature and pkg_full_signature_check,
 * lib/parse-config.c parse_pkg_install_conf), against Debian's OpenSSL 3.0 (as NetBSD 10) and libarchive. Written
 * for pkgtrust's tests as an independent reference; it shares no code with pkgtrust.
 *
 *   pkg-verify [--attime UNIX] --anchor FILE [--chain FILE] PACKAGE
 *   pkg-verify [--attime UNIX] --conf pkg_install.conf [--root DIR] PACKAGE
 *
 * --attime fixes the verification time (pkg_install uses the clock); --root reads the files
 * the configuration names under DIR, as pkg_install would see them inside that target.
 * Prints one line:
 *   verdict=trusted blocks=READ/TOTAL name=PKGNAME
 *   verdict=refused class=CLASS signature=ok|CLASS|unchecked blocks=READ/TOTAL reason=TEXT
 * CLASS: unsigned, gpg, hash-format, signature, signers, signer-ca, signer-eku, size, inner,
 * block, not-enforced (the configuration does not say VERIFIED_INSTALLATION=always).
 * Exit status 0 trusted, 1 refused, 2 usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct state {
	struct archive *outer;
	long long pkg_size;
	size_t block_len, block_count, current;
	char **blocks;
	unsigned char *buf;
	const char *failure; /* set by the read callback */
};

static struct state st;
/* The outcome of easy_pkcs7_verify once it ran ("ok" or its class): a package can fail twice. */
static const char *signature_outcome = "unchecked";

static void
verdict(const char *class, const char *format, ...)
{
	char reason[2048];
	va_list ap;

	va_start(ap, format);
	vsnprintf(reason, sizeof(reason), format, ap);
	va_end(ap);
	for (char *p = reason; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("verdict=refused class=%s signature=%s blocks=%zu/%zu reason=%s\n", class, signature_outcome, st.current, st.block_count, reason);
	exit(1);
}

/*
 * lib/parse-config.c parse_pkg_install_conf: a line sets VAR when it starts with exactly
 * "VAR="; the value is the rest of the line without its newline, nothing trimmed (unlike
 * lib/var.c var_get, which drops one blank after '=' and reads +BUILD_INFO, not this file);
 * a repeated VAR= line is appended after a newline.
 */
static char *
config_value(const char *file, const char *var)
{
	FILE *f = fopen(file, "r");
	char *line = NULL, *value = NULL;
	size_t cap = 0, varlen = strlen(var), valuelen = 0;
	ssize_t len;

	if (f == NULL)
		return NULL;
	while ((len = getline(&line, &cap, f)) != -1) {
		const char *p;
		size_t n;

		if (len > 0 && line[len - 1] == '\n')
			--len;
		if ((size_t)len < varlen + 1 || strncmp(line, var, varlen) != 0 || line[varlen] != '=')
			continue;
		p = line + varlen + 1;
		n = (size_t)(line + len - p);
		if (value != NULL) {
			value = realloc(value, valuelen + n + 2);
			value[valuelen++] = '\n';
		} else
			value = malloc(n + 1);
		memcpy(value + valuelen, p, n);
		valuelen += n;
		value[valuelen] = '\0';
	}
	free(line);
	fclose(f);
	return value;
}

/* lib/pkg_signature.c read_file_from_archive: 0 read, 1 another member, -1 end or error. */
static int
read_member(struct archive *a, struct archive_entry **entry, const char *name, char **content, size_t *len)
{
	int r;

	*content = NULL;
	*len = 0;
retry:
	if (*entry == NULL && (r = archive_read_next_header(a, entry)) != ARCHIVE_OK) {
		*entry = NULL;
		return -1;
	}
	if (strcmp(archive_entry_pathname(*entry), "//") == 0) {
		archive_read_data_skip(a);
		*entry = NULL;
		goto retry;
	}
	if (strcmp(name, archive_entry_pathname(*entry)) != 0)
		return 1;
	if (archive_entry_size(*entry) > SSIZE_MAX - 1)
		return 1;
	*len = (size_t)archive_entry_size(*entry);
	*content = malloc(*len + 1);
	if (archive_read_data(a, *content, *len) != (ssize_t)*len) {
		free(*content);
		*content = NULL;
		*len = 0;
		return 1;
	}
	(*content)[*len] = '\0';
	*entry = NULL;
	return 0;
}

/* lib/pkg_signature.c parse_hash_file, the same checks in the same order. */
static int
parse_hash(const char *text, char **pkgname)
{
	static const char b1[] = "pkgsrc signature\n\nversion: 1\npkgname: ";
	static const char b2[] = "algorithm: SHA512\nblock size: ";
	static const char b3[] = "file size: ";
	static const char b4[] = "end pkgsrc signature\n";
	char *next;
	size_t len, i;

	if (strncmp(text, b1, strlen(b1)) != 0)
		return -1;
	text += strlen(b1);
	len = strcspn(text, "\n");
	*pkgname = strndup(text, len);
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)(*pkgname)[i]))
			return -1;
	text += len + 1;
	if (strncmp(text, b2, strlen(b2)) != 0)
		return -1;
	text += strlen(b2);
	errno = 0;
	if (!isdigit((unsigned char)*text))
		return -1;
	st.block_len = strtoul(text, &next, 10);
	text = next;
	if (*text++ != '\n' || errno == ERANGE || st.block_len < 1024)
		return -1;
	if (strncmp(text, b3, strlen(b3)) != 0)
		return -1;
	text += strlen(b3);
	errno = 0;
	if (!isdigit((unsigned char)*text))
		return -1;
	st.pkg_size = strtoll(text, &next, 10);
	text = next;
	if (*text++ != '\n' || errno == ERANGE || st.pkg_size < 1)
		return -1;
	if (*text++ != '\n')
		return -1;
	if ((unsigned long long)st.pkg_size / st.block_len > SSIZE_MAX)
		return -1;
	st.block_count = (st.pkg_size + st.block_len - 1) / st.block_len;
	st.buf = malloc(st.block_len);
	st.blocks = calloc(st.block_count, sizeof(char *));
	for (i = 0; i < st.block_count; i++) {
		/* pkg_install's set, "01234567889abcdef", is these characters. */
		len = strspn(text, "0123456789abcdef");
		if (len != 128 || text[len] != '\n')
			return -1;
		st.blocks[i] = strndup(text, len);
		text += len + 1;
	}
	return strcmp(text, b4) == 0 ? 0 : -1;
}

static void
sha512_hex(const unsigned char *buf, size_t len, char out[129])
{
	unsigned char digest[64];
	unsigned int n = 0;

	EVP_Digest(buf, len, digest, &n, EVP_sha512(), NULL);
	for (unsigned int i = 0; i < 64; i++)
		sprintf(out + 2 * i, "%02x", digest[i]);
}

/* lib/pkg_signature.c verify_signature_read_cb, with its last block of size % block bytes. */
static la_ssize_t
read_block(struct archive *a, void *cookie, const void **buf)
{
	char hash[129];
	ssize_t len, expected;

	(void)a;
	(void)cookie;
	if (st.current >= st.block_count)
		return 0;
	if (st.current + 1 == st.block_count)
		expected = st.pkg_size % st.block_len;
	else
		expected = st.block_len;
	len = archive_read_data(st.outer, st.buf, expected);
	if (len != expected) {
		st.failure = "Short read from package";
		return -1;
	}
	sha512_hex(st.buf, len, hash);
	if (strcmp(hash, st.blocks[st.current]) != 0) {
		st.failure = "Invalid signature of block";
		return -1;
	}
	++st.current;
	*buf = st.buf;
	return len;
}

static const char *
openssl_errors(void)
{
	static char text[1024];
	const char *data;
	int flags;
	unsigned long code;

	text[0] = '\0';
	while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		size_t used = strlen(text);
		snprintf(text + used, sizeof(text) - used, "%s%s%s%s", used ? "; " : "", ERR_reason_error_string(code) ? ERR_reason_error_string(code) : "?",
		    (flags & ERR_TXT_STRING) && *data ? ": " : "", (flags & ERR_TXT_STRING) ? data : "");
	}
	return text;
}

/* lib/pkcs7.c file_to_certs. */
static STACK_OF(X509) *
file_to_certs(const char *file)
{
	STACK_OF(X509) *certs;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL)
		return NULL;
	certs = sk_X509_new_null();
	for (;;) {
		X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
		if (cert == NULL) {
			if (ERR_GET_REASON(ERR_peek_error()) == PEM_R_NO_START_LINE) {
				ERR_clear_error();
				break;
			}
			sk_X509_free(certs);
			fclose(f);
			return NULL;
		}
		sk_X509_push(certs, cert);
	}
	fclose(f);
	if (sk_X509_num(certs) == 0) {
		sk_X509_free(certs);
		return NULL;
	}
	return certs;
}

/* lib/pkcs7.c easy_pkcs7_verify(..., is_pkg = 1): NULL when the signature is good, else the refusal. */
static const char *
pkcs7_verify(const char *content, size_t len, const char *signature, size_t signature_len, const char *anchor, const char *chain_file, time_t attime, char **reason)
{
	STACK_OF(X509) *chain = chain_file ? file_to_certs(chain_file) : NULL;
	STACK_OF(X509) *signers;
	X509_STORE *store = X509_STORE_new();
	BIO *in = BIO_new_mem_buf(content, (int)len), *sig = BIO_new_mem_buf(signature, (int)signature_len);
	PKCS7 *p7;

	X509_STORE_load_locations(store, anchor, NULL);
	if (attime != 0)
		X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), attime);
	p7 = PEM_read_bio_PKCS7(sig, NULL, NULL, NULL);
	if (p7 == NULL) {
		*reason = strdup("Failed to parse the signature");
		return "signature";
	}
	if (PKCS7_verify(p7, chain, store, in, NULL, 0) != 1) {
		const char *errors = openssl_errors();
		*reason = malloc(strlen(errors) + 64);
		sprintf(*reason, "Failed to verify signature: %s", errors);
		return "signature";
	}
	signers = PKCS7_get0_signers(p7, NULL, 0);
	if (signers == NULL || sk_X509_num(signers) == 0) {
		*reason = strdup("Failed to get signers");
		return "signers";
	}
	for (int i = 0; i < sk_X509_num(signers); i++) {
		X509 *signer = sk_X509_value(signers, i);

		X509_check_purpose(signer, -1, -1);
		if (X509_check_ca(signer)) {
			*reason = strdup("CA keys are not valid for signatures");
			return "signer-ca";
		}
		if (X509_get_extended_key_usage(signer) != (XKU_CODE_SIGN | XKU_SMIME)) {
			*reason = strdup("Certificate must have CODE SIGNING and EMAIL PROTECTION property");
			return "signer-eku";
		}
	}
	return NULL;
}

/* A path of the target as the host sees it. */
static const char *
under(const char *root, const char *path)
{
	char *joined;

	if (root == NULL || path == NULL || path[0] != '/')
		return path;
	joined = malloc(strlen(root) + strlen(path) + 1);
	sprintf(joined, "%s%s", root, path);
	return joined;
}

static void
usage(void)
{
	fprintf(stderr, "usage: pkg-verify [--attime UNIX] (--anchor FILE [--chain FILE] | --conf FILE [--root DIR]) PACKAGE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *anchor = NULL, *chain = NULL, *conf = NULL, *file = NULL, *root = NULL;
	time_t attime = 0;
	struct archive *inner;
	struct archive_entry *entry = NULL, *member;
	char *hash, *signature, *pkgname = NULL, *reason = NULL, *first = NULL;
	size_t hash_len, signature_len;
	const char *bad;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--anchor") == 0 && i + 1 < argc)
			anchor = argv[++i];
		else if (strcmp(argv[i], "--chain") == 0 && i + 1 < argc)
			chain = argv[++i];
		else if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "--attime") == 0 && i + 1 < argc)
			attime = (time_t)strtoll(argv[++i], NULL, 10);
		else if (file == NULL && argv[i][0] != '-')
			file = argv[i];
		else
			usage();
	}
	if (file == NULL || (conf == NULL) == (anchor == NULL))
		usage();
	if (conf != NULL) {
		/* add/perform.c check_signature: only "always" (strcasecmp) refuses unverified packages. */
		char *verified = config_value(conf, "VERIFIED_INSTALLATION");
		if (verified == NULL || strcasecmp(verified, "always") != 0)
			verdict("not-enforced", "VERIFIED_INSTALLATION is '%s', not always", verified ? verified : "(unset)");
		anchor = under(root, config_value(conf, "CERTIFICATE_ANCHOR_PKGS"));
		chain = under(root, config_value(conf, "CERTIFICATE_CHAIN"));
	}

	/* find_archive/open_archive: prepare_archive() reads any filter and format. */
	st.outer = archive_read_new();
	archive_read_support_filter_all(st.outer);
	archive_read_support_format_all(st.outer);
	if (archive_read_open_filename(st.outer, file, 10240) != ARCHIVE_OK)
		verdict("unsigned", "cannot open %s: %s", file, archive_error_string(st.outer));

	/* pkg_verify_signature: +PKG_HASH, parse_hash_file, then +PKG_SIGNATURE (or +PKG_GPG_SIGNATURE). */
	if (read_member(st.outer, &entry, "+PKG_HASH", &hash, &hash_len) != 0)
		verdict("unsigned", "no +PKG_HASH first");
	if (parse_hash(hash, &pkgname) != 0)
		verdict("hash-format", "Unknown format of hash file");
	r = read_member(st.outer, &entry, "+PKG_SIGNATURE", &signature, &signature_len);
	if (r == 1 && entry != NULL && read_member(st.outer, &entry, "+PKG_GPG_SIGNATURE", &signature, &signature_len) == 0)
		verdict("gpg", "+PKG_GPG_SIGNATURE: an OpenPGP signature, which this reference does not check");
	if (r != 0)
		verdict("unsigned", "no +PKG_SIGNATURE after +PKG_HASH");
	bad = pkcs7_verify(hash, hash_len, signature, signature_len, anchor, chain, attime, &reason);
	signature_outcome = bad ? bad : "ok";

	if (archive_read_next_header(st.outer, &member) != ARCHIVE_OK)
		verdict("inner", "Cannot read inner package: %s", archive_error_string(st.outer));
	if (archive_entry_size(member) != st.pkg_size)
		verdict("size", "Package size doesn't match signature");

	inner = archive_read_new();
	archive_read_support_filter_all(inner);
	archive_read_support_format_all(inner);
	if (archive_read_open(inner, &st, NULL, read_block, NULL) != ARCHIVE_OK)
		verdict(st.failure ? "block" : "inner", "Can't open signed package file: %s", st.failure ? st.failure : archive_error_string(inner));
	/* pkg_full_signature_check: a bad signature fails before the inner package is read. */
	if (bad != NULL)
		verdict(bad, "%s", reason);

	/* ... then every entry to the end, through the block check. */
	while ((r = archive_read_next_header(inner, &member)) == ARCHIVE_OK) {
		/* (libarchive 3.6.2 returns an entry without a pathname after 32 chained extension headers.) */
		if (first == NULL)
			first = strdup(archive_entry_pathname(member) ? archive_entry_pathname(member) : "");
		archive_read_data_skip(inner);
	}
	if (r != ARCHIVE_EOF)
		verdict(st.failure ? "block" : "inner", "%s", st.failure ? st.failure : archive_error_string(inner));
	printf("verdict=trusted blocks=%zu/%zu name=%s first=%s\n", st.current, st.block_count, pkgname, first ? first : "");
	return 0;
}
