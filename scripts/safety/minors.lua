-- Minors at risk (category "minors", review; sexual content about minors rejects through
-- safety/sexual): a child shown, named, rated, located or pushed into risk. Sources, in our own
-- words: OpenAI moderation "sexual/minors", Llama Guard 3 S4 (child exploitation), COPPA-style
-- care for children's data, GARM floor. Written for this project.
local CHILD = { "child", "children", "kid", "kids", "teen", "teens", "teenager", "teenagers",
  "preteen", "preteens", "toddler", "toddlers", "underage", "schoolkids", "schoolgirl",
  "schoolgirls", "schoolboy", "pupils", "niece", "nephew", "daughter", "little girl",
  "little boy", "year old", "minors", "under ten", "under 13", "under twelve" }
return {
  category = "minors",
  rules = {
    { id = "minors.at_risk", all = { CHILD, { "home alone", "alone", "credit card",
      "filming", "film", "rating", "rate", "looks", "cutest", "cute", "who wins", "message them",
      "strangers", "sneak", "sneaking", "age check", "without their parents", "no parents",
      "ask your parents", "download the app", "where any", "followed her", "followed him",
      "lift as heavy", "lifting weights", "deadlifts", "maxes out", "dared", "full name",
      "home address", "home addresses", "private chat", "no adult", "credit line", "diet",
      "calorie", "kilos", "drinking", "sexy", "hot", "bikini", "bikinis", "outfits", "tagged",
      "faces", "location", "deep fryer", "hide", "from your parents", "lives" } }, within = 12,
      unless = { "parental controls", "child safe", "check ups", "hot yoga", "hot weather",
        "poison control", "out of reach" }, unless_within = 12,
      detail = "a minor exposed to risk" },
    { id = "minors.underage", terms = { "underage" } },
  },
}
