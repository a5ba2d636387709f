#!/usr/bin/env bash
# Builds the Java wallet SDK (javac --release 11: the language level Android 8+ apps use) and runs its JUnit 5
# tests with the JUnit console launcher from Debian's packages (junit5: /usr/share/java). No download.
#   sdk/java/run-tests.sh            build, then run every test
#   sdk/java/run-tests.sh build      build only: out/classes (the SDK), out/test-classes, out/offlinepay-sdk.jar
# Exit code 3 (and "skipped: ...") when javac or JUnit 5 is missing, so a caller can report a skip.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${JAVA_SDK_OUT:-$HERE/out}"
JARS="${JUNIT_JARS:-/usr/share/java}"
LAUNCHER="$JARS/junit-platform-console-standalone.jar"
if ! command -v javac >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then echo "skipped: no javac / JUnit 5 (javac not found: apt-get install default-jdk-headless)"; exit 3; fi
if [ ! -f "$LAUNCHER" ] || [ ! -f "$JARS/junit-jupiter-api.jar" ]; then echo "skipped: no javac / JUnit 5 ($LAUNCHER missing: apt-get install junit5)"; exit 3; fi
rm -rf "$OUT/classes" "$OUT/test-classes"
mkdir -p "$OUT/classes" "$OUT/test-classes"
javac --release 11 -Xlint:all,-serial -Werror -encoding UTF-8 -d "$OUT/classes" $(find "$HERE/src/main/java" -name '*.java')
jar --create --file "$OUT/offlinepay-sdk.jar" -C "$OUT/classes" .
javac --release 11 -encoding UTF-8 -cp "$OUT/classes:$JARS/junit-jupiter-api.jar:$JARS/apiguardian-api.jar:$JARS/opentest4j.jar" -d "$OUT/test-classes" $(find "$HERE/src/test/java" -name '*.java')
[ "${1:-}" = "build" ] && { echo "built: $OUT/offlinepay-sdk.jar"; exit 0; }
exec java -Drepo.root="$ROOT" -jar "$LAUNCHER" --disable-banner --details=tree --fail-if-no-tests \
  --class-path "$OUT/classes:$OUT/test-classes" --scan-class-path "$OUT/test-classes"
