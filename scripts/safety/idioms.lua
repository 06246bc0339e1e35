-- Benign idioms built from words of harm (no category: every rule is a mask). A hit of any other
-- rule lying inside a span matched here is dropped, so "she really kills it", "this recipe is the
-- bomb" or "attack the garlic" are not read as violence or tragedy, while "kill them" next to it
-- still is. Keep each idiom as short as it can be and still be unambiguous.
-- Sources, in our own words: common English idioms of praise, effort and cooking as listed in
-- the Cambridge and Merriam-Webster idiom entries ("kill it", "to die for", "knock 'em dead",
-- "the bomb", "shoot your shot", "dead tired"), and the benign look-alikes of the GARM brand
-- safety floor guidance (context over keywords). Written for this project.
local SELF = { "it", "the game", "the stage", "the set", "the workout", "the look", "the class",
  "the session", "the routine", "the performance", "the solo", "the race", "the track" }
return {
  rules = {
    { id = "idiom.kill_it", mask = true, all = { { "=kills", "=killing", "=killed", "=kill",
      "=slays", "=slaying", "=slayed", "=slay", "nailed", "nails", "crushing", "crushed",
      "smashing", "smashed" }, SELF }, within = 1, ordered = true },
    { id = "idiom.praise", mask = true, terms = { "slay", "slaying", "slayed", "knock em dead",
      "knock them dead", "knocked em dead", "knocked them dead", "to die for", "dying to",
      "dead tired", "dead on my feet", "dead easy", "dead simple", "drop dead gorgeous",
      "shoot your shot", "shot your shot", "shooting your shot", "is the bomb",
      "was the bomb", "are the bomb", "da bomb", "photo bomb", "photobomb", "a killer", "killer workout", "killer abs",
      "killer view", "killer deal", "killing me", "killing time", "kill time", "dressed to kill",
      "made a killing", "make a killing", "murder your to do", "murder your workout",
      "murder your inbox", "murder your goals",
      "attack the garlic", "attack the onion", "attack the day", "attack the hill",
      "attack the climb", "explode off", "explosive start", "explosive power",
      "blew up on", "blowing up on", "stops hackers", "stop hackers",
      "from stealing", "steal the show", "stole the show", "steals the show",
      "killer app", "shot of espresso", "flu shot", "booster shot", "shoot a video",
      "shooting a video", "shooting a film", "photo shoot", "break a leg", "beat the eggs",
      "beat the heat", "beat the clock", "beat your record", "beat the traffic" } },
  },
}
