
fuzz