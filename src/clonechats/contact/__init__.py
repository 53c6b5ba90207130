"""Contact: messages people send the operator, and the operator's inbox over them."""
