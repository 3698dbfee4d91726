#!/usr/bin/env bash
# Prepares the independent OSCAL validator and prints the path of an executable that validates OSCAL JSON files
# (`oscal-validate FILE...`, exit 1 on any error). It is NIST's liboscal-java from Maven Central
# (gov.nist.secauto.oscal:liboscal-java, the library inside oscal-cli, which that registry does not serve) driven
# by test/support/OscalValidate.java: the official OSCAL JSON schema, then the OSCAL metaschema constraints.
# Everything lives in a cache folder (jars are never committed); a second run only prints the path.
set -euo pipefail

version="${LIBOSCAL_JAVA_VERSION:-3.0.3}"
source_file="$(cd "$(dirname "$0")" && pwd)/OscalValidate.java"
cache="${ISMS_CI_CACHE:-$HOME/.cache/isms-ci}/oscal-validator/$version"
# A change to the harness or to this script builds a new wrapper beside the old one.
stamp="$(cat "$source_file" "$0" | sha256sum | cut -c1-16)"
wrapper="$cache/oscal-validate-$stamp"

if [ ! -x "$wrapper" ]; then
  command -v java >/dev/null || { echo "oscal-validator: java not found (install a JDK 17+)" >&2; exit 1; }
  command -v javac >/dev/null || { echo "oscal-validator: javac not found (install a JDK 17+)" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "oscal-validator: mvn not found (install Maven)" >&2; exit 1; }
  mkdir -p "$cache"
  if [ ! -d "$cache/lib" ]; then
    cat >"$cache/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.isms</groupId>
  <artifactId>oscal-validator-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>gov.nist.secauto.oscal</groupId>
      <artifactId>liboscal-java</artifactId>
      <version>$version</version>
    </dependency>
  </dependencies>
</project>
POM
    mvn -q -B -Dstyle.color=never -f "$cache/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$cache/lib.tmp" >&2
    mv "$cache/lib.tmp" "$cache/lib"
  fi
  rm -rf "$cache/classes-$stamp"
  javac -nowarn -d "$cache/classes-$stamp.tmp" -cp "$cache/lib/*" "$source_file" >&2
  mv "$cache/classes-$stamp.tmp" "$cache/classes-$stamp"
  cat >"$wrapper.tmp" <<WRAPPER
#!/bin/sh
exec java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j2.loggerContextFactory=org.apache.logging.log4j.simple.SimpleLoggerContextFactory -Dorg.apache.logging.log4j.simplelog.StatusLogger.level=OFF -cp '$cache/classes-$stamp:$cache/lib/*' OscalValidate "\$@"
WRAPPER
  chmod +x "$wrapper.tmp"
  mv "$wrapper.tmp" "$wrapper"
fi
echo "$wrapper"
