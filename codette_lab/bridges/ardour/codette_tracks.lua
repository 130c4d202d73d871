ardour {
	["type"]    = "EditorHook",
	name        = "Codette: tell the bridge where each track's audio is",
	author      = "codette_lab",
	description = [[Every second, sends each audio track's name, its first region's place on the timeline and
the audio files behind it over OSC to the Codette bridge (127.0.0.1, port 3820, or $CODETTE_ARDOUR_PORT).
Ardour's OSC surface reports names, gains and meters, but not where the audio is: this script adds that.]],
}

-- OSC message /codette/track: name, position, start, length (samples), sample rate, then one file path per channel.
-- /codette/session: the session's name and folder; sent before the tracks, each time.

function signals ()
	return LuaSignal.Set():add ({[LuaSignal.LuaTimerS] = true, [LuaSignal.SetSession] = true})
end

function codette_send_tracks (session)
	local port = os.getenv ("CODETTE_ARDOUR_PORT") or "3820"
	local out = ARDOUR.LuaOSC.Address ("osc.udp://127.0.0.1:" .. port)
	local rate = session:nominal_sample_rate ()
	out:send ("/codette/session", "ss", session:name (), session:path ())
	for route in session:get_tracks ():iter () do
		local track = route:to_track ()
		if not track:isnil () and not track:to_audio_track ():isnil () then
			local region = nil
			for first in track:playlist ():region_list ():iter () do region = first; break end
			if region then
				local audio = region:to_audioregion ()
				local types = "siiii"
				local args = {}
				for channel = 0, audio:n_channels () - 1 do
					local source = audio:source (channel):to_filesource ()
					if not source:isnil () then
						types = types .. "s"
						table.insert (args, source:path ())
					end
				end
				out:send ("/codette/track", types, route:name (), region:position ():samples (),
				          region:start ():samples (), region:length ():samples (), rate, table.unpack (args))
			end
		end
	end
end

function factory ()
	return function (signal, ref, ...)
		codette_send_tracks (Session)
	end
end
