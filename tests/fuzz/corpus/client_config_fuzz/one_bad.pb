

fuzz	
10.0.0.5:80

other		
no port