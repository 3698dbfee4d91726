#!/usr/bin/env bash
# Prepares Temporal's time-skipping test server (the Java one from Maven Central, io.temporal:temporal-test-server)
# and prints the path of an executable wrapper for TestWorkflowEnvironment.createTimeSkipping({ server: { executable:
# { type: 'existing-path', path } } }). The SDK starts the wrapper with the port as first argument and stops it by
# killing that process, so the wrapper must `exec` java rather than run it as a child.
# Everything lives in a cache folder (jars are never committed); a second run only prints the path.
set -euo pipefail

version="${TEMPORAL_TEST_SERVER_VERSION:-1.38.0}"
cache="${ISMS_CI_CACHE:-$HOME/.cache/isms-ci}/temporal-test-server/$version"
wrapper="$cache/temporal-test-server"

if [ ! -x "$wrapper" ]; then
  command -v java >/dev/null || { echo "time-skipping-server: java not found (install a JRE 17+)" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "time-skipping-server: mvn not found (install Maven)" >&2; exit 1; }
  mkdir -p "$cache"
  cat >"$cache/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.isms</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$version</version>
    </dependency>
    <dependency>
      <!-- The server logs through SLF4J; without a binding it prints a warning on every start. -->
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>2.0.17</version>
    </dependency>
  </dependencies>
</project>
POM
  mvn -q -B -Dstyle.color=never -f "$cache/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$cache/lib" >&2
  cat >"$wrapper.tmp" <<WRAPPER
#!/bin/sh
exec java -Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp '$cache/lib/*' io.temporal.testserver.TestServer "\$@"
WRAPPER
  chmod +x "$wrapper.tmp"
  mv "$wrapper.tmp" "$wrapper"
fi
echo "$wrapper"
