-- Personal data beyond what judge.find_pii finds in the text itself (e-mail, phone and card
-- numbers, written plainly or spelled out): street addresses, identity numbers, secrets
-- (category "pii", reject). Sources, in our own words: Llama Guard 3 S7 (privacy), GDPR Art. 4
-- (personal data: anything identifying a person, including location data and identification
-- numbers), GARM floor "privacy violations". Written for this project.
return {
  category = "pii",
  rules = {
    { id = "pii.street_address", all = { { "#num" }, { "street", "avenue", "=ave", "road",
      "lane", "boulevard", "=blvd", "court", "crescent", "terrace", "=st", "=rd" } },
      within = 2, ordered = true, detail = "a street address" },
    { id = "pii.lives_at", all = { { "lives", "live" }, { "street", "road", "lane", "avenue",
      "court", "row", "#num" } }, within = 8, ordered = true, detail = "where a person lives" },
    { id = "pii.identifiers", terms = { "home address", "home addresses", "my address is",
      "social security number", "=ssn", "passport number", "iban", "sort code",
      "account number", "maiden name", "password for my", "my password is", "password is",
      "full name", "licence plate", "license plate", "date of birth" },
      unless = { "never read", "manager", "managers" }, unless_within = 6,
      detail = "an identifier or secret" },
  },
}
