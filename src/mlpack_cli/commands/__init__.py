"""One module per ``mlpack`` command, named after it: a library function taking settings, returning a result."""
