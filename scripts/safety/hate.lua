-- Hate, dehumanisation and harassment of groups (category "hate", reject).
-- Sources, in our own words: OpenAI moderation "hate" and "harassment", Llama Guard 3 S10
-- (hate: demeaning people for protected characteristics), GARM floor "hate speech and acts of
-- aggression". Written for this project; it lists dehumanising words and group words, not slurs
-- (add slurs here as words; they match on stems and through separators and leetspeak).
local GROUPS = { "immigrant", "migrant", "refugee", "asylum seeker", "muslim", "jew", "jews",
  "christian", "hindu", "sikh", "women", "woman", "girls", "gay", "gays", "lesbian", "trans",
  "roma", "gypsies", "gypsy", "disabled", "africans", "african", "black people", "asians",
  "chinese", "mexicans", "mexican", "arabs", "foreigners", "foreigner", "illegals", "minorities",
  "from across the border", "savages", "these people", "their kind" }
return {
  category = "hate",
  rules = {
    { id = "hate.dehumanise_group", all = { { "vermin", "parasite", "animal", "animals", "rat",
      "rats", "cockroach", "cockroaches", "plague", "disease", "leech", "leeches", "subhuman",
      "savage", "infest*", "swarm", "swarmed", "inferior", "stupid", "thieving", "filth", "scum",
      "exterminated", "vermins", "belong in the kitchen", "don't belong", "dont belong",
      "never will", "control the banks", "control the media", "not welcome", "send them back",
      "send them all back", "keep them out", "breed like", "multiply like" }, GROUPS },
      within = 10, detail = "a group described as less than human" },
    { id = "hate.words", terms = { "subhuman", "untermensch", "race traitor",
      "ethnic cleansing" } },
  },
}
