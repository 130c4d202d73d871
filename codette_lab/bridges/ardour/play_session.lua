-- Plays an Ardour session headless (lesson, tests, trying the bridge), the way a user's Ardour would play it:
-- the "None (Dummy)" backend with silent inputs, the transport rolling in a loop over the session,
-- and the project's Lua hook (codette_tracks.lua) called every second as Ardour's editor would.
-- Prints CODETTE-READY once rolling. Environment: CODETTE_SESSION_DIR, CODETTE_SESSION_NAME, CODETTE_LUA_HOOK, CODETTE_ARDOUR_SECONDS (run time).

function ardour (description) end  -- the hook script's header; only Ardour's script manager reads it
dofile (os.getenv ("CODETTE_LUA_HOOK"))

local backend = AudioEngine:set_backend ("None (Dummy)", "", "")
backend:set_device_name ("Silence")
local session = load_session (os.getenv ("CODETTE_SESSION_DIR"), os.getenv ("CODETTE_SESSION_NAME"))
assert (session, "Ardour could not load the session")

local loop_end = session:current_end_sample () - session:nominal_sample_rate ()
local run_for = tonumber (os.getenv ("CODETTE_ARDOUR_SECONDS") or "600")
session:request_roll (ARDOUR.TransportRequestSource.TRS_UI)
print ("CODETTE-READY")
io.stdout:flush ()
for tick = 1, run_for * 10 do
	ARDOUR.LuaAPI.usleep (100000)
	if session:transport_sample () > loop_end then
		session:request_locate (0, false, ARDOUR.LocateTransportDisposition.MustRoll, ARDOUR.TransportRequestSource.TRS_UI)
	end
	if tick % 10 == 1 then
		codette_send_tracks (session)
	end
end
close_session ()
