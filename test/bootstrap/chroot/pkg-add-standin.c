/*
 * A stand-in for pkg_add inside a test target root: no real pkg_add (NetBSD's) runs on the
 * Debian machines the suite runs on. Built statically so that it runs under chroot with
 * nothing else in the root. It checks what pkgtrust's chroot test-install must give the real
 * one: that it runs inside the root (the marker file is there), the configuration just
 * written (VERIFIED_INSTALLATION=always, a readable CERTIFICATE_ANCHOR_PKGS), the package,
 * and a scratch database and prefix; it appends its arguments to /var/log/pkg_add.args.
 * With /etc/pkg_add.refuse present it refuses the package as pkg_add would.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *why) {
	fprintf(stderr, "pkg_add: %s\n", why);
	return 1;
}

int main(int argc, char **argv) {
	const char *config = NULL, *dbdir = NULL, *prefix = NULL, *package = argv[argc - 1];
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "-C") == 0) config = argv[i + 1];
		if (strcmp(argv[i], "-K") == 0) dbdir = argv[i + 1];
		if (strcmp(argv[i], "-P") == 0) prefix = argv[i + 1];
	}
	FILE *log = fopen("/var/log/pkg_add.args", "a");
	if (log == NULL) return fail("cannot open /var/log/pkg_add.args");
	for (int i = 1; i < argc; i++) fprintf(log, "%s\n", argv[i]);
	fclose(log);
	if (access("/pkgtrust-test-root", F_OK) != 0) return fail("not inside the test root");
	if (config == NULL || dbdir == NULL || prefix == NULL) return fail("-C, -K and -P are needed");
	FILE *conf = fopen(config, "r");
	if (conf == NULL) return fail("cannot read the configuration");
	char line[4096];
	int always = 0, anchors = 0;
	while (fgets(line, sizeof line, conf) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "VERIFIED_INSTALLATION=always") == 0) always = 1;
		if (strncmp(line, "CERTIFICATE_ANCHOR_PKGS=", 24) == 0 && access(line + 24, R_OK) == 0) anchors = 1;
	}
	fclose(conf);
	if (!always || !anchors) return fail("the configuration does not verify signatures");
	if (access(package, R_OK) != 0) return fail("cannot read the package");
	if (access("/etc/pkg_add.refuse", F_OK) == 0) return fail("Unable to verify signature");
	return 0;
}
