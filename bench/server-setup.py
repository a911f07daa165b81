#!/usr/bin/env python3
"""bench/server.sh's setup: N sites with one enrolled device each, through the real API. Writes the devices
(credential, device id, site id per line) and the poll body template (a healthy device's report as
`ingot health --json` writes it, compact, with __SITE__ and __DEVICE__ for wrk to fill in)."""
import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

url, token, count, report_file, devices_file, template_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]


def call(path, body, bearer):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + bearer} if bearer else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def enroll(i):
    site = "SITE-%05d" % i
    device = "%032x" % (0xbe0c4000000000000000000000000000 + i)
    call("/api/v1/sites", {"id": site, "tags": ["bench"]}, token)
    enrollment = call("/api/v1/sites/%s/enrollment-tokens" % site, {}, token)["token"]
    credential = call("/api/v1/device/enroll", {"token": enrollment, "device_id": device, "site_id": site}, None)["credential"]
    return "%s %s %s" % (credential, device, site)


with ThreadPoolExecutor(8) as pool:
    lines = list(pool.map(enroll, range(count)))
with open(devices_file, "w") as out:
    out.write("\n".join(lines) + "\n")
report = json.load(open(report_file))
report["site_id"] = "__SITE__"
report["device_id"] = "__DEVICE__"
with open(template_file, "w") as out:
    out.write(json.dumps({"generation": 0, "report": report}, separators=(",", ":"), sort_keys=True))
