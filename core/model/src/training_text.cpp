// The text the generated models' vocabulary is learnt from: short plain stories written for
// this project (free of any copyright claim), in the simple style of children's stories so
// that prompts like "Once upon a time" split into real multi-character pieces.
#include "make_model_internal.h"

namespace bricks::model {

std::string_view training_text() {
  return
      "Once upon a time, there was a little girl named Lily. She lived in a small house near "
      "the forest with her mother and her dog, Max. Every morning Lily and Max went to the "
      "river to look at the fish. One day she saw a big red ball in the water. \"Look, Max!\" "
      "she said. \"Can you get the ball?\" Max jumped into the water and swam to the ball. He "
      "brought it back to Lily, and she was very happy. They played with the ball all day, "
      "and when the sun went down they walked home together.\n"
      "Once upon a time, there was a boy named Tom who liked to build things. He had a box of "
      "wood and a small hammer. One day he wanted to build a boat. He worked and worked, but "
      "the boat was not good. It was too heavy and it did not float. Tom was sad. His father "
      "came to help him. \"Let us try again,\" said his father. \"We can make it light and "
      "strong.\" They worked together, and the new boat was beautiful. Tom put it on the pond "
      "and it floated! He smiled and said, \"Thank you, Dad. I love my boat.\"\n"
      "Once upon a time, in a quiet town, there lived an old cat who loved the warm sun. Every "
      "day the cat sat by the window and watched the birds in the tree. The birds sang songs, "
      "and the cat listened. One day a little bird fell from the tree. The cat did not want to "
      "hurt the bird. She wanted to help. She called the other birds, and together they "
      "helped the little bird back to its nest. From that day on, the cat and the birds were "
      "friends, and they sang and played in the garden every morning.\n"
      "The time came for the children to go to school. They were excited to learn new things "
      "and to meet new friends. The teacher was kind, and she told them a story about a brave "
      "little mouse who found a big piece of cheese. The mouse shared the cheese with all of "
      "his friends, and everyone was happy. The children laughed and said it was the best "
      "story they had ever heard. After school they ran home to tell their parents, and they "
      "all agreed that sharing is a good thing to do. The end.\n"
      "There were 3 apples, 12 pears and 100 cherries on the table in 2024; what is 7 + 5? "
      "Numbers, words and marks (like these: ; , . ! ? - ' \") all belong in a good story.\n";
}

}  // namespace bricks::model
