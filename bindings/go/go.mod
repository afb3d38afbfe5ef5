module ember.local/ember

go 1.19
