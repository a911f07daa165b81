# Sourced by ./mvnw and ./ingot: Ingot needs JDK 25, but many Debian machines
# default to an older one. Keep a JAVA_HOME that is already 25+, else take a
# `java` on PATH that is 25+, else the newest 25+ JDK under /usr/lib/jvm.
ingot_java_major() { # prints the feature version of the java binary $1, or 0
  # The JDK's `release` file says it without starting a JVM (a third of a second saved on every run).
  home=$(dirname "$(dirname "$(readlink -f "$(command -v "$1")")")")
  if [ -f "$home/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release" | head -n 1 | grep . && return 0
  fi
  "$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1 | grep . || echo 0
}
ingot_find_jdk() {
  if [ -n "${JAVA_HOME-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(ingot_java_major "$JAVA_HOME/bin/java")" -ge 25 ]; then
    return 0
  fi
  if command -v java >/dev/null 2>&1 && [ "$(ingot_java_major java)" -ge 25 ]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    export JAVA_HOME
    return 0
  fi
  # find, not a glob: ./mvnw runs with `set -f`.
  for candidate in $(find /usr/lib/jvm /opt -mindepth 1 -maxdepth 1 2>/dev/null | sort -r); do
    if [ -x "$candidate/bin/javac" ] && [ "$(ingot_java_major "$candidate/bin/java")" -ge 25 ]; then
      JAVA_HOME=$candidate
      export JAVA_HOME
      return 0
    fi
  done
  echo "error: Tried to find a JDK 25 but failed because neither JAVA_HOME, java on PATH nor /usr/lib/jvm has one. Hint: install a JDK 25 (e.g. Temurin 25) and set JAVA_HOME." >&2
  return 1
}
