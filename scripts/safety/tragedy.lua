-- Death, disaster and injury news (category "tragedy", review): a person decides whether a video
-- may speak about it, and a persona's cheerful template over it is never published unseen.
-- Sources, in our own words: GARM brand-safety floor and high-risk tier "death, injury or
-- military conflict", OpenAI moderation "violence/graphic", Llama Guard 3 S1 (reporting).
-- Written for this project.
local COUNT = { "#num", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
  "ten", "eleven", "twelve", "twenty", "thirty", "forty", "fifty", "hundred", "hundreds",
  "dozens", "thousands", "people", "worker", "passenger", "commuter", "victim", "child", "man",
  "woman", "runner", "climber", "swimmer", "family", "student", "tourist", "firefighter" }
local DEATH = { "stabbed", "stabbing", "stabbings", "shot dead", "=murdered", "=murderer",
  "=killings",
  "massacre", "funeral", "death toll", "drowned", "drown", "feared dead", "fatal", "victims",
  "grieving", "mourning", "bomb blast", "suicide bombing", "mass shooting", "school shooting",
  "gunman", "wounded", "hostage", "=bodies", "=corpses" }
local ORDERED_AT = { "every last one", "all of them", "them all", "each of them", "on sight",
  "those people", "the lot of them" }
return {
  category = "tragedy",
  rules = {
    -- harm ordered at people ("stab every last one of them") is violence, not news
    { id = "tragedy.death", terms = DEATH, unless = ORDERED_AT, unless_within = 4,
      detail = "death, injury or disaster" },
    { id = "tragedy.killed_count", all = { { "kill", "die", "dead" }, COUNT }, within = 3,
      unless = { "nearly", "almost", "killed it", "laughing", "battery", "process",
        "every last one", "all of them", "of them", "them all", "each one", "on sight",
        "those people" },
      unless_within = 4, detail = "people killed" },
    { id = "tragedy.shot_dead", all = { { "shooting", "shot", "crash", "explosion", "fire",
      "avalanche", "earthquake", "collapse" }, { "dead", "=killed", "=kills", "die", "victim" } },
      within = 6 },
    -- The issue's case: "New fitness trend alert: Man stabbed at gym. Try this today!"
    { id = "tragedy.upbeat_frame", severity = 3, all = { DEATH, { "trend alert", "try this",
      "save this", "smash follow", "delicious", "cook it", "lets go", "you'll love",
      "trending", "challenge", "go move", "stay curious", "keep wandering" } },
      detail = "a cheerful template over a tragedy" },
  },
}
