-- wrk script for bench/server.sh: every request is one device's poll, as the agent sends it (POST
-- /api/v1/device/poll with the device's credential and its full health report), the devices taken in
-- turn so that every poll updates a different row. Arguments: TEMPLATE_FILE DEVICES_FILE.
local devices = {}
local next_thread = 0
local counter = 0

function setup(thread)
  thread:set("offset", next_thread * 997)
  next_thread = next_thread + 1
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  local template = file:read("*a")
  file:close()
  for line in io.lines(args[2]) do
    local credential, device, site = line:match("(%S+) (%S+) (%S+)")
    local body = template:gsub("__DEVICE__", device):gsub("__SITE__", site)
    -- Each device's whole request is built once here, so that wrk spends its (shared) CPU on sending, not formatting.
    devices[#devices + 1] = wrk.format("POST", "/api/v1/device/poll",
      { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. credential }, body)
  end
  counter = offset or 0
end

function request()
  counter = counter % #devices + 1
  return devices[counter]
end
