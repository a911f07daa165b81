#!/usr/bin/env bash
# Makes files/ingot-agent.tar.gz for the image: ingot.jar and a jlink runtime of the JDK running this script, whose
# version must be versions.pkrvars.hcl's jre_version. Run from a checkout after ./mvnw package.
set -euo pipefail
cd "$(dirname "$0")"
pinned=$(sed -n 's/^jre_version *= *"\(.*\)"$/\1/p' versions.pkrvars.hcl)
jdk_version=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')
if [ "$jdk_version" != "$pinned" ]; then
  echo "error: Tried to make the agent bundle but failed because the JDK is $jdk_version and versions.pkrvars.hcl pins $pinned." \
    "Hint: run it with that JDK on PATH, or bump --jre." >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jlink --add-modules java.base,java.logging,java.naming,java.net.http,java.xml,java.management,jdk.crypto.ec,java.sql,jdk.unsupported \
  --strip-debug --no-man-pages --no-header-files --output "$work/runtime"
cp ../ingot-cli/target/ingot.jar "$work/ingot.jar"
printf '%s\n' "$pinned" >"$work/JRE_VERSION"
tar --sort=name --owner=0 --group=0 --mtime=@0 -czf files/ingot-agent.tar.gz -C "$work" .
echo "files/ingot-agent.tar.gz: ingot.jar with a Java $pinned runtime"
