-- wrk script: every request is a Vapi `assistant-request` for an inbound call to one of the bench
-- phone numbers, half of them answered with the clinic's own assistant, half with a transient one.
--   wrk ... -s bench/assistant_request.lua <url> -- <path> <secret> <threads> <tag> <numbers>
-- Request i asks for pn_bench_<1 + i % numbers> (bench/sql/setup.sql: 1..100 own assistant,
-- 101..200 transient), as call <tag>-<i>. Thread t sends i = t, t + threads, t + 2*threads, ...

local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  path, secret, step, tag, numbers = args[1], args[2], tonumber(args[3]), args[4], tonumber(args[5])
  n = thread_index
  headers = {["Content-Type"] = "application/json", ["X-Vapi-Secret"] = secret}
end

local template = '{"message":{"timestamp":1764115200000,"type":"assistant-request",' ..
  '"call":{"id":"%s-%d","orgId":"6c7a1f0e-2b3d-4c5e-8f9a-0b1c2d3e4f5a","type":"inboundPhoneCall",' ..
  '"status":"ringing","phoneNumberId":"pn_bench_%d","customer":{"number":"+1415555%04d"},' ..
  '"phoneCallProvider":"twilio","phoneCallTransport":"pstn"},' ..
  '"phoneNumber":{"id":"pn_bench_%d","number":"+12125550100","provider":"twilio"},' ..
  '"customer":{"number":"+1415555%04d"}}}'

function request()
  local i = n
  n = n + step
  local number = 1 + i % numbers
  local body = string.format(template, tag, i, number, i % 10000, number, i % 10000)
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
