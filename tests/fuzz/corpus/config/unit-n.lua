queue = {
  claim_bach = 3 }
