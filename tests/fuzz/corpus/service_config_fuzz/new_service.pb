
added
db.internal:5432"
weighted_random