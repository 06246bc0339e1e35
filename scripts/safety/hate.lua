-- Hate, dehumanisation and harassment of groups (category "hate", reject).
-- Sources, in our own words: OpenAI moderation "hate" and "harassment", Llama Guard 3 S10
-- (hate: demeaning people for protected characteristics), GARM floor "hate speech and acts of
-- aggression". Written for this project; it lists dehumanising words and group words, not slurs
-- (add slurs here as words; they match on stems and through separators and leetspeak).
local GROUPS = { "immigrant", "migrant", "refugee", "asylum seeker", "muslim", "jew", "jews",
  "christian", "hindu", "sikh", "women", "woman", "girls", "gay", "gays", "lesbian", "trans",
  "roma", "gypsies", "gypsy", "disabled", "africans", "african", "black people", "asians",
  "chinese", "mexicans", "mexican", "arabs", "foreigners", "foreigner", "illegals", "minorities",
  "from across the border", "savages", "these people", "their kind", "those people",
  "that lot", "across the border", "from over there", "where they came from", "over the border", "outsiders", "newcomers", "=invaders",
  "asylum", "their people", "their women", "jewish", "islam",
  "muslims", "hindus", "blacks", "whites", "latinos", "indians", "pakistanis", "turks",
  "romanians", "somalis", "syrians", "afghans", "ukrainians", "russians", "nigerians",
  "homeless", "gay people", "trans people", "queers", "feminists" }
-- Words that liken people to vermin and pests: dehumanising next to a group word whatever the
-- sentence (stems: "rat" matches "rats").
local DEHUMANISING = { "vermin", "vermins", "parasite", "rat", "cockroach", "roach", "leech",
  "subhuman", "sub human", "less than human", "not even human", "not human", "savage",
  "infest*", "swarm", "lice", "louse", "locust", "termite", "maggot", "scum", "breed like",
  "multiply like", "horde", "hordes", "overrun" }
-- Words that dehumanise only when said of people ("they are animals", "a pack of dogs"): a
-- woman walking her dog or heart disease in our country is no hate.
local LIKENED = { "animal", "beast", "dog", "pig", "ape", "monkey", "snake", "bug", "insect",
  "germ", "disease", "cancer", "filth", "barbarian", "mongrel", "pest", "flea", "tick",
  "mosquito", "invasion", "crawling" }
local BEASTS = {}
for _, l in ipairs({ DEHUMANISING, LIKENED }) do
  for _, w in ipairs(l) do BEASTS[#BEASTS + 1] = w end
end
-- Real animals: the zoo, the farm, pets and pests in the house.
local ZOO = { "zoo", "pandas", "pets", "pet", "wildlife", "farm", "cute", "cutest", "adorable",
  "species", "garden", "kitchen", "attic", "crops", "pest control", "trap", "vet", "puppies",
  "kittens", "the wild", "safari", "aquarium" }
local COPULA = { "are", "is", "were", "like", "nothing but", "just", "bunch of", "pack of",
  "breed of", "a plague of", "that's what", "thats what" }
-- Calls to destroy or expel.
local EXTERMINATE = { "exterminate", "extermination", "wipe out", "wiped out", "wipe them",
  "spray them", "gas them", "cleanse the", "cleanse our", "eradicate", "get rid of them",
  "get rid of all", "drive them out", "stamp them out", "round them up", "deport them all",
  "cull", "clean it out", "clean them out", "burn them out", "smoke them out" }
return {
  category = "hate",
  rules = {
    { id = "hate.dehumanise", all = { DEHUMANISING, GROUPS }, within = 12,
      unless = { "rat race", "gym rat", "pest control" }, unless_within = 2,
      detail = "a group likened to vermin, pests or beasts" },
    { id = "hate.likened", all = { GROUPS, COPULA, LIKENED }, within = 4, ordered = true,
      unless = ZOO, unless_within = 8, detail = "a group likened to beasts or disease" },
    -- "they really are animals, these migrants": a pronoun, a copula, a beast word
    { id = "hate.they_likened", all = { { "they", "those people", "these people", "all of them",
      "every one of them", "the lot of them" }, { "are", "were", "breed", "multiply", "spread",
      "crawl", "swarm", "nothing but" }, BEASTS }, within = 4, ordered = true,
      unless = ZOO, unless_within = 10, detail = "people likened to beasts or vermin" },
    -- "they breed like rats", "they are cockroaches": a dehumanising word said of "they"
    { id = "hate.they_are", all = { { "they are", "theyre", "they're", "they breed",
      "they multiply", "they spread", "they crawl", "they swarm", "the lot of them",
      "all of them are", "every one of them" }, { "vermin", "parasite", "cockroach", "rat",
      "lice", "locust", "insect", "maggot", "subhuman", "savage", "breed like", "multiply like",
      "infest*", "animals", "beasts", "pests", "germs", "plague" } }, within = 5,
      ordered = true, unless = { "garden", "kitchen", "crops", "attic", "the dog",
      "the cat", "our pets", "pet" }, unless_within = 10,
      detail = "people likened to vermin" },
    -- "exterminate them", "wipe out the foreigners", "spray them like roaches"
    { id = "hate.exterminate", all = { EXTERMINATE, GROUPS }, within = 8,
      detail = "a call to destroy or expel a group" },
    -- "those animals should be wiped out": people called beasts and marked for destruction
    -- (pest control talks about traps, attics and gardens)
    { id = "hate.exterminate_beasts", all = { { "those", "these", "them", "they", "that lot" },
      BEASTS, EXTERMINATE }, within = 10,
      unless = { "attic", "garden", "kitchen", "crops", "trap", "traps", "pest control",
        "loft", "shed", "farm", "lawn", "plants", "exterminator", "fleas on", "your dog",
        "your cat", "pets" }, unless_within = 12,
      detail = "a call to destroy people likened to vermin" },
    { id = "hate.dehumanise_group", all = { { "plague", "swarmed",
      "inferior", "stupid", "thieving",
      "exterminated", "belong in the kitchen", "don't belong", "dont belong",
      "never will", "control the banks", "control the media", "not welcome", "send them back",
      "send them all back", "keep them out", "breed like", "multiply like" }, GROUPS },
      within = 10, detail = "a group described as less than human" },
    { id = "hate.words", terms = { "subhuman", "untermensch", "race traitor",
      "ethnic cleansing", "racial purity", "great replacement", "breed like rats",
      "breed like rabbits", "breed like cockroaches", "exterminate them", "wipe them out",
      "gas them" } },
  },
}
