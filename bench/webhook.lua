-- wrk script: every request is a real Vapi `tool-calls` envelope (bookClinicAppointment) for a
-- distinct free slot, so the server always takes the success path.
--   wrk ... -s bench/webhook.lua <url> -- <path> <secret> <base_date YYYY-MM-DD> <first_day> <threads> <tag> <orgs>
-- Request i goes to clinic asst_bench_<1 + i % orgs>, slot (i / orgs) % 24 (08:00, 08:30, ...),
-- day base + first_day + i / (24 * orgs) -- the same mapping as bench.load_slot in bench/sql/setup.sql.
-- Thread t sends i = t, t + threads, t + 2*threads, ... so threads never share a slot.

local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  path, secret, tag = args[1], args[2], args[6]
  first_day, step, orgs = tonumber(args[4]), tonumber(args[5]), tonumber(args[7])
  local y, m, d = args[3]:match("(%d+)-(%d+)-(%d+)")
  base_noon = os.time({year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12})
  n = thread_index
  headers = {["Content-Type"] = "application/json", ["X-Vapi-Secret"] = secret}
end

local template = '{"message":{"type":"tool-calls","timestamp":1764115200000,' ..
  '"toolCallList":[{"id":"%s","type":"function","function":{"name":"bookClinicAppointment",' ..
  '"arguments":{"patientName":"Bench Caller %d","patientPhone":"+1 (415) %03d-%04d",' ..
  '"appointmentDate":"%s","appointmentTime":"%s","serviceType":"consultation"}}}],' ..
  '"call":{"id":"call-%s-%d","type":"inboundPhoneCall","assistantId":"asst_bench_%d",' ..
  '"customer":{"number":"+14155550100"}},"assistant":{"id":"asst_bench_%d","name":"Sarah"}}}'

function request()
  local i = n
  n = n + step
  local org = 1 + i % orgs
  local slot = math.floor(i / orgs) % 24
  local day = first_day + math.floor(i / (24 * orgs))
  local date = os.date("%Y-%m-%d", base_noon + day * 86400)
  local at = string.format("%02d:%02d", 8 + math.floor(slot / 2), (slot % 2) * 30)
  local body = string.format(template, tag .. "-" .. i, i, 200 + math.floor(i / 10000) % 800, i % 10000,
                             date, at, tag, i, org, org)
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
