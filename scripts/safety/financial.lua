-- Financial claims and guarantees (category "financial", reject).
-- Sources, in our own words: FTC guidance on earnings claims and business opportunities
-- (typical results, no guarantees), SEC/FINRA investor alerts on guaranteed returns and
-- get-rich-quick schemes, GARM "spam or harmful content". Written for this project.
local MONEY = { "return", "returns", "profit", "profits", "income", "money", "savings",
  "earnings", "figures", "deposit", "investing", "investment", "fund", "gains" }
return {
  category = "financial",
  rules = {
    { id = "financial.guarantee", all = { { "guaranteed", "guarantee", "zero risk", "no risk",
      "risk free", "riskfree", "never loses", "can only go up", "impossible" }, MONEY },
      within = 10, unless = { "no investment", "free of risk", "anyone who says" },
      unless_within = 8, detail = "guaranteed or riskless returns" },
    { id = "financial.riskless", terms = { "zero risk", "risk free", "riskfree",
      "no risk whatsoever", "can only go up", "never loses", "losses are impossible",
      "get rich", "rich quick", "double your money", "doubles your money",
      "doubling your money", "millionaire", "passive income", "quit your job", "quit my job",
      "mortgage the house", "borrow against your house", "all your savings", "tripled their",
      "pays your rent forever", "to do nothing", "no work at all" },
      detail = "a get-rich claim" },
    { id = "financial.earnings", all = { { "make", "making", "earn", "earning", "pays", "turns",
      "paid" }, { "#num", "thousand", "six figures", "hundred" }, { "a week", "a day",
      "a month", "every week", "per week", "per day", "week", "day", "month", "thirty days" } },
      within = 8, ordered = true, detail = "an earnings claim" },
    { id = "financial.amount_week", all = { { "thousand", "#num" }, { "a week", "a day",
      "every week" } }, within = 2, ordered = true, unless = { "euros a month", "fund" },
      unless_within = 6 },
  },
}
