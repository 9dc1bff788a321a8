-- wrk script for scripts/bench-load.sh: every request is a POST with an empty body (the token
-- and CSRF value travel in the headers given with -H).
wrk.method = "POST"
