-- Suicide and self-harm, including eating-disorder encouragement (category "self_harm", reject).
-- Sources, in our own words: OpenAI moderation "self-harm", "self-harm/intent" and
-- "self-harm/instructions", Llama Guard 3 S11 (suicide and self-harm), GARM floor. Written for
-- this project. Help-seeking text (crisis lines, prevention) is left alone by `unless`.
return {
  category = "self_harm",
  rules = {
    { id = "self_harm.words", terms = { "kill yourself", "killed herself", "killed himself",
      "kill myself", "=kys", "unalive", "suicide", "self harm", "selfharm", "end your life",
      "end it all", "cut yourself", "cutting yourself", "slit", "overdos*",
      "never wake up again", "starve yourself", "purge", "purging", "fresh scars",
      "eating nothing", "not eating", "skip meals", "skipping meals", "pro ana", "thinspo",
      "quietest way out", "take your own life" },
      unless = { "prevention", "hotline", "helpline", "crisis", "988", "samaritans",
        "not alone", "reach out" }, unless_within = 8, detail = "suicide or self-harm" },
    { id = "self_harm.starve", all = { { "starve", "starving", "fasting" }, { "faint", "weight",
      "thin", "dress size", "yourself", "until" } }, within = 6 },
    { id = "self_harm.minor_diet", all = { { "preteen", "preteens", "child", "kid", "kids",
      "teen", "year old", "client" }, { "cutting diet", "calorie", "kilos", "cut weight",
      "diet" } }, within = 10, detail = "weight loss pushed on a child" },
  },
}
