DROP FUNCTION IF EXISTS pgrecall.api_rate_take(text, text, double precision, double precision);
DROP TABLE IF EXISTS pgrecall.api_rate_limits;
