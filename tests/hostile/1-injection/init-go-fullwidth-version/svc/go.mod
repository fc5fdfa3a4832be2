module example.com/svc

go １.２２
