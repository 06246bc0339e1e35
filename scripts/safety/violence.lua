-- Violence, threats and incitement (category "violence", reject).
-- Sources, in our own words: OpenAI moderation "violence" and "harassment/threatening", Llama
-- Guard 3 S1 (violent crimes), GARM floor "death, injury or military conflict" (glorification).
-- Written for this project. A verb of harm counts only with a target next to it, so "kill the
-- excuses", "beat the eggs" and "a killer workout" pass while "kill them all" does not.
local TARGETS = { "them", "him", "her", "everyone", "anyone", "every one", "everybody",
  "someone", "somebody", "people", "those", "landlord", "referee", "critic", "traitor",
  "protester", "tourist", "neighbour", "neighbor", "lender", "driver", "thief", "stranger",
  "guy", "cop", "ref", "umpire", "politician", "teacher", "boss", "wife", "husband", "man",
  "woman", "the office", "the school" }
return {
  category = "violence",
  rules = {
    { id = "violence.kill_target", all = { { "kill", "murder", "shoot", "stab", "hang",
      "slaughter", "poison", "strangle", "butcher", "beat", "punch", "stomp", "knife", "torture",
      "behead", "lynch" }, TARGETS }, within = 3, ordered = true,
      detail = "harm aimed at people" },
    { id = "violence.incitement", terms = { "kill them all", "kill every one", "no mercy",
      "make him bleed", "make her bleed", "make them bleed", "smash his face", "smash her face",
      "to the throat", "to death", "should be hanged", "be hanged", "shoot up the", "exterminate",
      "exterminated", "deserved every stab", "had it coming", "torturing", "tortured",
      "stomping", "knocked out", "break his", "broke his", "break her", "break the lender" },
      detail = "incitement or glorified violence" },
    { id = "violence.injury", all = { { "break", "broke", "smash", "slash", "burn", "burned" },
      { "rib", "leg", "legs", "face", "neck", "skull", "his car", "her car", "their car",
        "his house", "their house" } }, within = 4, ordered = true, unless = { "a leg" },
      unless_within = 0 },
    { id = "violence.poison", all = { { "poison" }, { "it", "dog", "cat", "pet", "him", "her",
      "them", "neighbour", "neighbor" } }, within = 2, ordered = true },
    { id = "violence.push_off", all = { { "push", "shove", "throw" }, { "off the cliff",
      "off a cliff", "off the bridge", "off the roof", "down the stairs" } }, within = 10 },
    { id = "violence.weaponise", all = { { "weapon" }, { "at the neighbour", "at people",
      "at the crowd", "at them", "neighbours" } }, within = 8 },
  },
}
