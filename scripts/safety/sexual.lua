-- Sexual content and non-consensual imagery (category "sexual", reject).
-- Sources, in our own words: OpenAI moderation "sexual" and "sexual/minors", Llama Guard 3 S3
-- (sex crimes: non-consensual imagery), S4 (child exploitation), S12 (sexual content), GARM
-- floor "adult and explicit sexual content". Written for this project.
-- Ages and school-age words that make sexualising words about a person a minors case.
local AGE = { "#num<18", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
  "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen" }
local SCHOOL = { "schoolgirl", "schoolboy", "schoolkid", "school girl", "school boy",
  "middle schooler", "middle school", "high schooler", "high school", "grader", "tween",
  "tweens", "preteen", "pre teen", "underage", "jailbait", "year nine", "year ten",
  "sixth grade", "seventh grade", "eighth grade", "ninth grade", "freshman", "cheerleader" }
local SEXUALISING = { "sexy", "hot", "hottest", "pics", "pic", "photos", "body", "bikini",
  "lingerie", "nude*", "naked", "nood*", "curves", "thirst trap", "seductive", "sultry",
  "rate her", "rate his", "rate the", "undress*", "onlyfans", "nsfw", "spicy" }
-- Family and school context that keeps an age next to "photos" or "body" benign.
local MINOR_CARE = { "birthday", "party", "school photos", "class photo", "yearbook",
  "graduation", "sports day", "swim team", "sun safety", "safety", "doctor", "growth",
  "healthy", "pe class", "exercise", "workout", "weight moves", "body weight", "bodyweight",
  "yoga", "hot weather", "hot day", "heat", "hot car", "hot chocolate", "hot meal" }
-- Leaked, stolen or private intimate images (slang and leet are folded by ain.text: "n00ds").
local INTIMATE = { "nude*", "nood*", "naked", "nsfw", "private pics", "private photos",
  "private pictures", "intimate", "explicit", "spicy pics", "onlyfans", "sex tape",
  "bedroom pics", "topless", "lewd*" }
return {
  category = "sexual",
  rules = {
    { id = "sexual.explicit", terms = { "nude", "nudes", "naked", "porn*", "sex tape",
      "sex video", "sexting", "onlyfans", "undress*", "boobs", "full frontal", "sexy", "xxx",
      "nsfw", "stripping live", "strip live", "explicit video", "explicit pics", "explicit sex",
      "explicit photos", "hidden camera", "secretly filmed", "upskirt", "bedroom video" },
      unless = { "colour", "color", "palette", "lipstick", "shade", "tone", "beige" },
      unless_within = 3, detail = "sexual or explicit content" },
    { id = "sexual.leak", all = { INTIMATE, { "leak*", "stolen", "stole", "hacked", "dump",
      "dropping", "drop", "posting", "sharing", "her", "his", "my ex", "link in bio",
      "before they delete", "before they're gone", "grab" } }, within = 8,
      unless = { "never share", "don't share", "report", "revenge porn law", "victims of" },
      unless_within = 8, detail = "leaked or non-consensual intimate images" },
    { id = "sexual.slang", terms = { "=noods", "=nudez", "=nudies", "=nsfw", "lewds",
      "onlyfans leak", "of leak", "spicy pics", "private pics" },
      detail = "intimate images in slang" },
    -- an age under 18 or a school-age word near a sexualising word: sexual and minors, reject
    -- (each fires in both categories: the same rule again as minors.*, category = "minors")
    { id = "sexual.minor_age", severity = 4, all = { AGE, { "year old", "years old", "yr old",
      "yrs old" }, SEXUALISING }, within = 8, unless = MINOR_CARE, unless_within = 6,
      detail = "sexualised minors" },
    { id = "minors.sexualised_age", category = "minors", action = "reject", severity = 4,
      all = { AGE, { "year old", "years old", "yr old", "yrs old" }, SEXUALISING },
      within = 8, unless = MINOR_CARE, unless_within = 6, detail = "sexualised minors" },
    { id = "sexual.minor_school", severity = 4, all = { SCHOOL, SEXUALISING }, within = 8,
      unless = MINOR_CARE, unless_within = 6, detail = "sexualised minors" },
    { id = "minors.sexualised_school", category = "minors", action = "reject", severity = 4,
      all = { SCHOOL, SEXUALISING }, within = 8, unless = MINOR_CARE, unless_within = 6,
      detail = "sexualised minors" },
    { id = "sexual.explicit_any", all = { { "explicit" }, { "video", "pics", "photo", "sex",
      "pic", "content" } }, within = 4 },
    { id = "sexual.voyeur", all = { { "shower", "changing room", "bedroom", "undressing" },
      { "filmed", "film", "camera", "video", "footage", "secretly" } }, within = 6 },
    { id = "sexual.stream", all = { { "strip", "stripping" }, { "live", "stream", "camera" } },
      within = 3 },
    { id = "sexual.minors", severity = 4, all = { { "schoolgirl", "schoolgirls", "underage",
      "teen", "teens", "child", "children", "kid", "kids", "minor", "minors", "preteen" },
      { "sexy", "bikini", "bikinis", "hot", "nude", "naked", "hottest", "pics", "lingerie" } },
      within = 6, unless = MINOR_CARE, unless_within = 6, detail = "sexualised minors" },
  },
}
